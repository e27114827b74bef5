//! The line-driving parser: splits the input into lines, dispatches on the format and
//! enforces the OpenMetrics `# EOF` rules.

use crate::entry::{Entry, Format};
use crate::error::{Error, Result};
use crate::{openmetrics, promtext};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    /// An error or `# EOF` was returned; every further call yields `Ok(None)`.
    Done,
}

/// A pull parser over a whole scrape body. Entries borrow from the input; label names
/// and values are only copied when they contain escape sequences.
#[derive(Debug, Clone)]
pub struct Parser<'a> {
    input: &'a str,
    pos: usize,
    line: usize,
    format: Format,
    state: State,
}

impl<'a> Parser<'a> {
    pub fn new(input: &'a str, format: Format) -> Self {
        Parser {
            input,
            pos: 0,
            line: 0,
            format,
            state: State::Running,
        }
    }

    /// Like [`Parser::new`] for raw bytes, rejecting invalid UTF-8 with the line and byte
    /// offset of the first bad byte.
    pub fn from_bytes(input: &'a [u8], format: Format) -> Result<Self> {
        match std::str::from_utf8(input) {
            Ok(s) => Ok(Parser::new(s, format)),
            Err(e) => {
                let offset = e.valid_up_to();
                let line = 1 + input
                    .get(..offset)
                    .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
                Err(Error::InvalidUtf8 { line, offset })
            }
        }
    }

    /// The format being parsed.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The 1-based number of the line last read (0 before the first call).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The next entry; `Ok(None)` at the end of the input (for OpenMetrics, after the
    /// `Eof` entry). After an error the parser stays finished.
    pub fn next_entry(&mut self) -> Result<Option<Entry<'a>>> {
        loop {
            if self.state == State::Done {
                return Ok(None);
            }
            let Some(rest) = self.input.get(self.pos..).filter(|r| !r.is_empty()) else {
                self.state = State::Done;
                return match self.format {
                    Format::PrometheusText => Ok(None),
                    Format::OpenMetrics => Err(Error::MissingEof {
                        line: self.line.max(1),
                    }),
                };
            };
            let (line, consumed) = match rest.find('\n') {
                Some(i) => (rest.get(..i).unwrap_or(""), i + 1),
                None => (rest, rest.len()),
            };
            self.pos += consumed;
            self.line += 1;
            let parsed = match self.format {
                Format::PrometheusText => promtext::parse_line(line),
                Format::OpenMetrics => openmetrics::parse_line(line).map(Some),
            };
            match parsed {
                Ok(None) => continue,
                Ok(Some(Entry::Eof)) => {
                    self.state = State::Done;
                    if self.pos < self.input.len() {
                        return Err(Error::DataAfterEof {
                            line: self.line + 1,
                        });
                    }
                    return Ok(Some(Entry::Eof));
                }
                Ok(Some(e)) => return Ok(Some(e)),
                Err(reason) => {
                    self.state = State::Done;
                    return Err(Error::Syntax {
                        line: self.line,
                        reason,
                    });
                }
            }
        }
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Entry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().transpose()
    }
}
