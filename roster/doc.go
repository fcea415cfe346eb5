// Package roster is an institution's roster of appraisers (鉴定人名册): the rules every
// appraiser record must satisfy (Check, shared with the JSON API), and the import of a whole
// roster from the spreadsheet institutions keep it in (Importer).
//
// # Files
//
// A roster is CSV or XLSX (the first sheet of the workbook). CSV is read as UTF-8, with or
// without a byte-order mark ("CSV UTF-8" in Excel), or as GB18030, which is what Excel in
// China saves as plain "CSV": a file that is not valid UTF-8 is taken to be GB18030 unless the
// media type names a charset. XLSX cells are read raw, so that numbers (licence and phone
// numbers) keep all their digits and dates are read whatever their display format.
//
// The first non-blank row is the header; blank rows are skipped. Headers are in Chinese or
// English, case and spacing aside, and a trailing hint such as "（YYYY-MM-DD）" or "*" is
// ignored:
//
//	姓名 / name                         required
//	执业证号 / licence_no                required; identifies the appraiser
//	执业类别 / categories                required; separated by 、 , ， ； ; or a line break
//	执业证有效期 / licence_expires        2027-03-01, 2027/3/1, 2027年3月1日, or an Excel date
//	岗前培训 / induction_trained          是/否, yes/no, true/false, 1/0 (#9)
//	继续教育学时 / ce_hours               hours of the current year; "2026年继续教育学时" or
//	                                    "ce_hours_2026" for a given year, one column per year (#10)
//	电话 / phone, 邮箱 / email
//
// An unknown or repeated column is an error of the header row naming it; so is a missing
// required column, and then no row is checked.
//
// # Rows
//
// Each data row is an appraiser of the importing institution. A row whose licence number
// belongs to one of the institution's appraisers updates that appraiser; any other row
// creates one. A blank cell, or a column the sheet does not have, leaves the field as it is:
// a sheet cannot clear a field (the API can). Fields no sheet holds (proficiency results,
// declared conflicts, busy times) are kept. A row is bad if it breaks a rule of Check (those
// of POST /api/v1/appraisers), if a cell cannot be read (a date, a yes/no, a number), if its
// licence number appeared on an earlier row, or if the licence number belongs to an appraiser
// of another institution (licence numbers are unique across the registry; moving an appraiser
// to another institution is the bureau's, through the API).
// Every problem is reported with its row as the spreadsheet shows it, the column letter and
// header, and a message in Chinese and English.
//
// # Writing
//
// A dry run checks everything and writes nothing. A real import with any bad row writes
// nothing either (all or nothing), so a roster is never half-imported for a reason the file
// could have shown.
//
// The store has no transactions over several records, so the writes of a good import are one
// per changed row, in file order, and a crash or a conflicting edit can stop them part way.
// The import is made safe to repeat instead: rows are matched by licence number, which the
// store keeps unique, and a row whose appraiser already reads as the row says is left alone
// (reported "unchanged"). Importing the same file again after an interruption therefore
// creates the rows not yet created, updates those not yet updated, touches nothing else, and
// can never create an appraiser twice: a second import of the same file changes nothing. The
// writes are not cancelled when the client goes away, so an import does not stop at an
// arbitrary row only because the connection dropped.
//
// # Limits
//
// A file is at most MaxBytes (5 MB) and MaxRows (5,000) data rows. The largest institutions
// register a few hundred appraisers, so the limits leave ample room while bounding what one
// request costs: the whole file is held in memory to be checked before anything is written
// (all or nothing needs that), an XLSX file unpacks to many times its size (capped at 64 MB,
// against zip bombs), and every changed row is one durable store write, made while the client
// waits. A province-wide list belongs in several imports, one per institution.
package roster
