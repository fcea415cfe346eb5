package scheduler

import (
	"context"
	"strconv"
	"time"

	"github.com/chuting/chuting"
)

// Built-in holiday calendars, used for a year the bureau has not stored its own for.
//
// 2026: 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04, Xinhua). 2027: the State
// Council's arrangement was not yet published when this was written, so it holds only the
// statutory days off that fall on weekdays, per 全国年节及纪念日放假办法 (2024 revision), with
// the lunar dates of 2027; the bureau should replace it (PUT /api/v1/holidays/2027) once the
// notice is out, adding its swapped days and 调休 working weekends.
func builtinHolidays(year int) *chuting.HolidayYear {
	d := func(m, day int) chuting.Date { return chuting.Date{Year: year, Month: time.Month(m), Day: day} }
	switch year {
	case 2026:
		return &chuting.HolidayYear{Year: 2026,
			Holidays: []chuting.Date{
				d(1, 1), d(1, 2), // 元旦 (1–3, Saturday the 3rd)
				d(2, 16), d(2, 17), d(2, 18), d(2, 19), d(2, 20), d(2, 23), // 春节 15–23
				d(4, 6),                   // 清明 4–6
				d(5, 1), d(5, 4), d(5, 5), // 劳动节 1–5
				d(6, 19),                                         // 端午 19–21
				d(9, 25),                                         // 中秋 25–27
				d(10, 1), d(10, 2), d(10, 5), d(10, 6), d(10, 7), // 国庆 1–7
			},
			Workdays: []chuting.Date{d(1, 4), d(2, 14), d(2, 28), d(5, 9), d(9, 20), d(10, 10)},
			Source:   "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）"}
	case 2027:
		return &chuting.HolidayYear{Year: 2027,
			Holidays: []chuting.Date{
				d(1, 1),          // 元旦 (Friday)
				d(2, 5), d(2, 8), // 春节: 除夕 Feb 5 (Friday) to 初三 Feb 8 (Monday)
				d(4, 5),  // 清明 (Monday)
				d(6, 9),  // 端午 (Wednesday)
				d(9, 15), // 中秋 (Wednesday)
				d(10, 1), // 国庆 1–3 (Friday to Sunday)
			},
			Source: "法定节假日（全国年节及纪念日放假办法）；2027年调休安排未发布，待司法局更新 / statutory days only; the 2027 arrangement is not yet published"}
	}
	return nil
}

// Holidays returns the holiday calendar of year: the bureau's stored one, else the built-in
// one, else an empty one (weekends only).
func Holidays(ctx context.Context, s chuting.Records, year int) (*chuting.HolidayYear, error) {
	h, err := chuting.FindOne[chuting.HolidayYear](ctx, s, chuting.IndexYear, strconv.Itoa(year))
	switch chuting.ErrorCode(err) {
	case "":
	case chuting.ENOTFOUND:
		if h = builtinHolidays(year); h == nil {
			h = &chuting.HolidayYear{Year: year, Source: "无节假日数据，仅排除周末 / no data: weekends only"}
		}
	default:
		return nil, err
	}
	if h.Holidays == nil {
		h.Holidays = []chuting.Date{}
	}
	if h.Workdays == nil {
		h.Workdays = []chuting.Date{}
	}
	return h, nil
}
