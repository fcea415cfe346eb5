package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/chuting/chuting"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Format is the kind of file a roster comes in, named by its media type.
type Format string

// Formats.
const (
	CSV  Format = "text/csv"
	XLSX Format = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// Limits. See the package documentation for why.
const (
	MaxBytes = 5 << 20 // largest file
	MaxRows  = 5000    // most data rows
	// maxUnzipped caps what an XLSX file may unpack to, so a small zip bomb cannot take
	// the server's memory. A full 5,000-row roster unpacks to a few megabytes.
	maxUnzipped = 64 << 20
	// MaxColumns bounds the width of a row.
	MaxColumns = 64
)

// sheet is a roster file read into cells: the header row first, then the data rows, blank
// rows left out.
type sheet struct {
	lines []line
	// serialDates is set for XLSX, whose date cells hold day numbers (Excel serials).
	serialDates bool
	date1904    bool // the workbook counts days from 1904 (old Mac Excel)
}

// line is one row of the sheet.
type line struct {
	row   int // as the spreadsheet shows it, from 1
	cells []string
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// add appends a non-blank row, refusing a sheet of more than MaxRows data rows.
func (s *sheet) add(row int, cells []string) error {
	if blank(cells) {
		return nil
	}
	for len(cells) > 0 && strings.TrimSpace(cells[len(cells)-1]) == "" {
		cells = cells[:len(cells)-1]
	}
	if len(cells) > MaxColumns {
		// A roster has a dozen columns; a cell far to the right would make every row that
		// wide, and a small file could take gigabytes once read.
		return chuting.Errorf(chuting.ETOOLARGE, "第 %d 行超过 %d 列 / row %d has more than %d columns", row, MaxColumns, row, MaxColumns)
	}
	if len(s.lines) > MaxRows { // the header and MaxRows data rows are there already
		return chuting.Errorf(chuting.ETOOLARGE, "名册超过 %d 行 / the roster has more than %d rows; split it", MaxRows, MaxRows)
	}
	s.lines = append(s.lines, line{row: row, cells: cells})
	return nil
}

// read reads a roster file of format f. charset is the charset parameter of a CSV's media
// type, or "" to detect it.
func read(data []byte, f Format, charset string) (*sheet, error) {
	if len(data) > MaxBytes {
		return nil, chuting.Errorf(chuting.ETOOLARGE, "文件超过 %d 字节 / the file is over %d bytes", MaxBytes, MaxBytes)
	}
	switch f {
	case CSV:
		return readCSV(data, charset)
	case XLSX:
		return readXLSX(data)
	}
	return nil, unsupported()
}

func unsupported() error {
	return chuting.Errorf(chuting.EUNSUPPORTED, "名册须为 CSV（text/csv）或 XLSX 文件 / the roster must be text/csv or "+
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
}

// readCSV reads a CSV file: comma-separated, fields quoted as RFC 4180 (and Excel) quote them.
// Row numbers are those a spreadsheet shows when it opens the file: a line break inside a
// quoted field does not start a new row.
func readCSV(data []byte, charset string) (*sheet, error) {
	text, err := decodeText(data, charset)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1 // a short row is padded with blanks; a long one is checked against the header
	s := &sheet{}
	inside := 0 // line breaks inside quoted fields so far
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return s, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &chuting.Error{Code: chuting.EINVALID, Err: err,
				Message: fmt.Sprintf("CSV 第 %d 行格式错误（%s）/ CSV row %d is malformed: %s", pe.StartLine-inside, csvReason(pe.Err), pe.StartLine-inside, pe.Err)}
		} else if err != nil {
			return nil, fmt.Errorf("read CSV: %w", err)
		}
		start, _ := r.FieldPos(0)
		if err := s.add(start-inside, rec); err != nil {
			return nil, err
		}
		for _, f := range rec {
			inside += strings.Count(f, "\n")
		}
	}
}

func csvReason(err error) string {
	switch {
	case errors.Is(err, csv.ErrBareQuote), errors.Is(err, csv.ErrQuote):
		return "引号不成对"
	}
	return "无法解析"
}

// decodeText returns a CSV file's text. Excel in China saves "CSV" in GB18030 (GBK) and "CSV
// UTF-8" with a byte-order mark; both are read. Without a charset, a file that is valid UTF-8
// is UTF-8 (Chinese text in GB18030 practically never is), and any other is GB18030.
func decodeText(data []byte, charset string) (string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	switch strings.ToLower(charset) {
	case "", "utf-8", "utf8":
		if utf8.Valid(data) {
			return string(data), nil
		}
		if charset != "" {
			return "", chuting.Errorf(chuting.EINVALID, "文件不是有效的 UTF-8 / the file is not valid UTF-8, as its charset says")
		}
	case "gb18030", "gbk", "gb2312":
	default:
		return "", chuting.Errorf(chuting.EUNSUPPORTED, "不支持字符集 %s，请用 UTF-8 或 GB18030 / charset %s is not supported; use UTF-8 or GB18030",
			charset, charset)
	}
	if bytes.HasPrefix(data, []byte("\xff\xfe")) || bytes.HasPrefix(data, []byte("\xfe\xff")) {
		return "", chuting.Errorf(chuting.EINVALID, "不支持 UTF-16 文本，请另存为「CSV UTF-8」/ UTF-16 text is not supported; save as \"CSV UTF-8\"")
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		return "", &chuting.Error{Code: chuting.EINVALID, Err: err,
			Message: "文件编码无法识别，请另存为「CSV UTF-8」/ the file is neither UTF-8 nor GB18030; save it as \"CSV UTF-8\""}
	}
	return string(out), nil
}

// readXLSX reads the first sheet of a workbook. Cells are read raw, without their number
// format: a licence or phone number stored as a number must not come out as 1.38E+10, and a
// date comes as its day number, which parseDate turns into a date whatever the display format.
func readXLSX(data []byte) (*sheet, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{RawCellValue: true,
		UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: maxUnzipped})
	if err != nil {
		// excelize reports the unzip limit only in its message.
		if strings.Contains(err.Error(), "unzip size exceeds") {
			return nil, &chuting.Error{Code: chuting.ETOOLARGE, Err: err,
				Message: fmt.Sprintf("XLSX 解压后超过 %d 字节 / the workbook unpacks to over %d bytes", maxUnzipped, maxUnzipped)}
		}
		return nil, &chuting.Error{Code: chuting.EINVALID, Err: err,
			Message: "无法读取 XLSX 文件（加密或已损坏？）/ the file is not a readable XLSX workbook (encrypted or damaged?)"}
	}
	defer f.Close()
	s := &sheet{serialDates: true}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		s.date1904 = *props.Date1904
	}
	names := f.GetSheetList()
	if len(names) == 0 {
		return nil, chuting.Errorf(chuting.EINVALID, "工作簿没有工作表 / the workbook has no sheet")
	}
	rows, err := f.Rows(names[0])
	if err != nil {
		return nil, &chuting.Error{Code: chuting.EINVALID, Err: err, Message: "无法读取第一个工作表 / cannot read the first sheet"}
	}
	defer rows.Close()
	for row := 1; rows.Next(); row++ { // Next steps one row at a time, gaps included
		cells, err := rows.Columns()
		if err != nil {
			return nil, &chuting.Error{Code: chuting.EINVALID, Err: err,
				Message: fmt.Sprintf("无法读取第 %d 行 / cannot read row %d", row, row)}
		}
		if err := s.add(row, cells); err != nil {
			return nil, err
		}
	}
	if err := rows.Error(); err != nil {
		return nil, &chuting.Error{Code: chuting.EINVALID, Err: err, Message: "无法读取第一个工作表 / cannot read the first sheet"}
	}
	return s, nil
}
