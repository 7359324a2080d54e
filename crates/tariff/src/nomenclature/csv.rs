//! A small RFC 4180 CSV reader over `&str`.
//!
//! - fields are separated by `,`, records by CRLF (LF and a lone CR are accepted too);
//! - a field may be quoted with `"`; inside quotes, commas, line breaks and doubled quotes
//!   (`""` → `"`) are data;
//! - a quote inside an unquoted field, text after a closing quote, and an unterminated quoted
//!   field are errors naming the line;
//! - a leading UTF-8 byte order mark is skipped; a final line break does not start a record;
//! - an empty line is a record with a single empty field (see [`CsvRecord::is_blank`]).

/// One CSV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRecord {
    /// 1-based physical line on which the record starts.
    pub line: usize,
    /// The unquoted field values.
    pub fields: Vec<String>,
}

impl CsvRecord {
    /// Whether the record came from an empty line.
    pub fn is_blank(&self) -> bool {
        self.fields.len() == 1 && self.fields[0].is_empty()
    }
}

/// A CSV syntax error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CSV line {line}: {message}")]
pub struct CsvError {
    /// 1-based physical line of the error.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// An iterator of records; stops after the first error.
#[derive(Debug, Clone)]
pub struct CsvReader<'a> {
    input: &'a str,
    pos: usize,
    line: usize,
    failed: bool,
}

impl<'a> CsvReader<'a> {
    /// A reader over `input` (a leading BOM is skipped).
    pub fn new(input: &'a str) -> Self {
        let input = input.strip_prefix('\u{feff}').unwrap_or(input);
        Self {
            input,
            pos: 0,
            line: 1,
            failed: false,
        }
    }

    fn error(
        &mut self,
        line: usize,
        message: impl Into<String>,
    ) -> Option<Result<CsvRecord, CsvError>> {
        self.failed = true;
        Some(Err(CsvError {
            line,
            message: message.into(),
        }))
    }

    /// Consumes a line break at `pos` (CRLF, LF or CR); returns whether there was one.
    fn eat_line_break(&mut self) -> bool {
        let bytes = self.input.as_bytes();
        match bytes.get(self.pos) {
            Some(b'\r') => {
                self.pos += if bytes.get(self.pos + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                self.line += 1;
                true
            }
            Some(b'\n') => {
                self.pos += 1;
                self.line += 1;
                true
            }
            _ => false,
        }
    }
}

impl Iterator for CsvReader<'_> {
    type Item = Result<CsvRecord, CsvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.input.len() {
            return None;
        }
        let bytes = self.input.as_bytes();
        let start_line = self.line;
        let mut fields = Vec::new();
        loop {
            // At the start of a field.
            if bytes.get(self.pos) == Some(&b'"') {
                let quote_line = self.line;
                self.pos += 1;
                let mut value = String::new();
                let mut chunk_start = self.pos;
                loop {
                    match bytes.get(self.pos) {
                        None => {
                            return self.error(quote_line, "unterminated quoted field");
                        }
                        Some(b'"') => {
                            value.push_str(&self.input[chunk_start..self.pos]);
                            if bytes.get(self.pos + 1) == Some(&b'"') {
                                value.push('"');
                                self.pos += 2;
                                chunk_start = self.pos;
                            } else {
                                self.pos += 1;
                                break;
                            }
                        }
                        Some(b'\n') => {
                            self.line += 1;
                            self.pos += 1;
                        }
                        Some(b'\r') => {
                            if bytes.get(self.pos + 1) != Some(&b'\n') {
                                self.line += 1;
                            }
                            self.pos += 1;
                        }
                        Some(_) => self.pos += 1,
                    }
                }
                fields.push(value);
                match bytes.get(self.pos) {
                    None => break,
                    Some(b',') => {
                        self.pos += 1;
                        continue;
                    }
                    Some(b'\r' | b'\n') => {
                        self.eat_line_break();
                        break;
                    }
                    Some(_) => {
                        let line = self.line;
                        return self.error(line, "unexpected text after a closing quote");
                    }
                }
            } else {
                let start = self.pos;
                loop {
                    match bytes.get(self.pos) {
                        None | Some(b',' | b'\r' | b'\n') => break,
                        Some(b'"') => {
                            let line = self.line;
                            return self.error(line, "quote inside an unquoted field");
                        }
                        Some(_) => self.pos += 1,
                    }
                }
                fields.push(self.input[start..self.pos].to_owned());
                if bytes.get(self.pos) == Some(&b',') {
                    self.pos += 1;
                    continue;
                }
                self.eat_line_break();
                break;
            }
        }
        Some(Ok(CsvRecord {
            line: start_line,
            fields,
        }))
    }
}

/// Parses a whole CSV text into records.
pub fn parse_csv(input: &str) -> Result<Vec<CsvRecord>, CsvError> {
    CsvReader::new(input).collect()
}
