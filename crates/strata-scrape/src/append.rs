//! Appending one scrape body (Prometheus' `scrapeLoopAppender.append`): parse line by
//! line, map each series text through the cache (or, the first time, through target
//! labels and `metric_relabel_configs`), apply the sample limit, and write stale markers
//! for series that disappeared.

use std::borrow::Cow;

use strata_config::ScrapeProtocol;
use strata_model::labels::NameValidation;
use strata_model::{Labels, is_stale_nan, stale_nan};
use strata_relabel::RelabelConfig;
use strata_textparse::{Entry, Format, LabelPairs, Parser, samples_to_labels};

use crate::appender::{AppendError, ScrapeAppender};
use crate::cache::ScrapeCache;
use crate::lines::{parse_tail, series_end};
use crate::mutate::{LabelLimits, Mutator, check_series};

/// The error of a scrape that exceeded `sample_limit`.
pub const SAMPLE_LIMIT_ERROR: &str = "sample limit exceeded";
/// Samples further in the future than this are out of bounds (Prometheus' `maxAheadTime`).
const MAX_AHEAD_MS: i64 = 10 * 60 * 1000;

/// How samples of a scrape config are appended.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendOptions {
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub track_timestamps_staleness: bool,
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// 0 = no limit.
    pub sample_limit: u64,
    pub label_limits: LabelLimits,
    pub validation: NameValidation,
    pub fallback_protocol: Option<ScrapeProtocol>,
}

impl AppendOptions {
    pub fn from_config(cfg: &strata_config::ScrapeConfig) -> Self {
        AppendOptions {
            honor_labels: cfg.honor_labels,
            honor_timestamps: cfg.honor_timestamps,
            track_timestamps_staleness: cfg.track_timestamps_staleness,
            metric_relabel_configs: cfg.metric_relabel_configs.clone(),
            sample_limit: cfg.sample_limit,
            label_limits: LabelLimits {
                label_limit: cfg.label_limit,
                label_name_length_limit: cfg.label_name_length_limit,
                label_value_length_limit: cfg.label_value_length_limit,
            },
            validation: cfg.metric_name_validation_scheme.name_validation(),
            fallback_protocol: cfg.fallback_scrape_protocol,
        }
    }
}

/// Counts of one scrape, as the report series show them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Appended {
    /// Samples in the body (`scrape_samples_scraped`).
    pub total: u64,
    /// Samples left after relabeling (`scrape_samples_post_metric_relabeling`).
    pub added: u64,
    /// Series new to the cache (`scrape_series_added`).
    pub series_added: u64,
}

/// The parser for a response's `Content-Type` (Prometheus' `extractMediaType`), falling
/// back to the configured protocol when it is missing or unknown.
pub fn format_for(content_type: &str, fallback: Option<ScrapeProtocol>) -> Result<Format, String> {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let known = |m: &str| match m {
        "application/openmetrics-text" => Some(Ok(Format::OpenMetrics)),
        "text/plain" => Some(Ok(Format::PrometheusText)),
        "application/vnd.google.protobuf" => {
            Some(Err("the protobuf scrape format is not supported".to_owned()))
        }
        _ => None,
    };
    if let Some(f) = known(&media) {
        return f;
    }
    let Some(fb) = fallback else {
        return Err(if content_type.is_empty() {
            "non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target".to_owned()
        } else {
            format!(
                "received unsupported Content-Type {content_type:?} and no fallback_scrape_protocol specified for target"
            )
        });
    };
    let fb_media = fb.header().split(';').next().unwrap_or("");
    tracing::debug!(
        content_type,
        fallback = fb_media,
        "using fallback_scrape_protocol"
    );
    known(fb_media).unwrap_or_else(|| Err(format!("unsupported fallback protocol {fb}")))
}

/// Why a sample was not appended.
enum AddError {
    SampleLimit,
    Append(AppendError),
}

/// The appender with the scrape's limits (Prometheus' `limitAppender` over
/// `timeLimitAppender`).
struct Limited<'a> {
    app: &'a mut dyn ScrapeAppender,
    limit: u64,
    count: u64,
    max_time: i64,
}

impl Limited<'_> {
    fn append(&mut self, r: Option<u64>, l: &Labels, t: i64, v: f64) -> Result<u64, AddError> {
        // Stale markers of known series are always written.
        if self.limit > 0 && (r.is_none() || !is_stale_nan(v)) {
            self.count += 1;
            if self.count > self.limit {
                return Err(AddError::SampleLimit);
            }
        }
        if t > self.max_time {
            return Err(AddError::Append(AppendError::OutOfBounds));
        }
        self.app.append(r, l, t, v).map_err(AddError::Append)
    }

    /// Appends a sample whose ref the storage did not know any more, with its labels
    /// (already counted and checked by [`Limited::append`]).
    fn append_again(&mut self, l: &Labels, t: i64, v: f64) -> Result<u64, AddError> {
        self.app.append(None, l, t, v).map_err(AddError::Append)
    }
}

/// Writes stale markers for the series of the previous scrape missing from this one
/// (by ref; a series the storage dropped already needs none).
fn update_stale_markers(
    cache: &mut ScrapeCache,
    mut append: impl FnMut(u64) -> Result<(), AddError>,
) -> Result<(), String> {
    for r in cache.stale_series() {
        match append(r) {
            Ok(())
            | Err(AddError::Append(
                AppendError::OutOfOrder | AppendError::DuplicateTimestamp | AppendError::UnknownRef,
            )) => {}
            Err(AddError::Append(e)) => return Err(e.to_string()),
            Err(AddError::SampleLimit) => return Err(SAMPLE_LIMIT_ERROR.to_owned()),
        }
    }
    Ok(())
}

/// An empty or failed scrape: stale markers for everything of the previous scrape, and
/// the cache moves on without forgetting anything.
pub fn append_empty(
    cache: &mut ScrapeCache,
    app: &mut dyn ScrapeAppender,
    ts: i64,
) -> Result<(), String> {
    let no_labels = Labels::empty();
    let r = update_stale_markers(cache, |r| {
        app.append(Some(r), &no_labels, ts, stale_nan())
            .map(|_| ())
            .map_err(AddError::Append)
    });
    cache.iter_done(false);
    r
}

/// Per-sample error counts (logged once per scrape).
#[derive(Default)]
struct SampleErrors {
    out_of_order: u64,
    duplicate: u64,
    out_of_bounds: u64,
}

/// Everything a scrape loop keeps between scrapes for appending.
#[derive(Debug, Default)]
pub struct AppendState {
    pub cache: ScrapeCache,
    mutator: Mutator,
}

impl AppendState {
    pub fn new(cache: ScrapeCache) -> Self {
        AppendState {
            cache,
            mutator: Mutator::new(),
        }
    }
}

fn full_parse(line: &str, format: Format, line_no: usize) -> Result<Option<Entry<'_>>, String> {
    Parser::new(line, format).next_entry().map_err(|e| match e {
        strata_textparse::Error::Syntax { reason, .. } => strata_textparse::Error::Syntax {
            line: line_no,
            reason,
        }
        .to_string(),
        other => other.to_string(),
    })
}

/// Appends a scrape body. Returns the counts and the error that fails the scrape (parse
/// error, sample or label limit, invalid series, storage failure); on error the caller
/// rolls back and calls [`append_empty`] with a new appender.
#[allow(clippy::too_many_arguments)]
pub fn append_body(
    st: &mut AppendState,
    opts: &AppendOptions,
    target_labels: &Labels,
    app: &mut dyn ScrapeAppender,
    body: &[u8],
    content_type: &str,
    default_ts: i64,
    now_ms: i64,
) -> (Appended, Result<(), String>) {
    let mut counts = Appended::default();
    if body.is_empty() {
        return (counts, append_empty(&mut st.cache, app, default_ts));
    }
    let format = match format_for(content_type, opts.fallback_protocol) {
        Ok(f) => f,
        Err(e) => return (counts, Err(e)),
    };
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            return (
                counts,
                Err(format!("invalid UTF-8 at byte offset {}", e.valid_up_to())),
            );
        }
    };
    let mut app = Limited {
        app,
        limit: opts.sample_limit,
        count: 0,
        max_time: now_ms.saturating_add(MAX_AHEAD_MS),
    };
    let mut errs = SampleErrors::default();
    let mut sample_limit_hit = false;
    let result = append_lines(
        st,
        opts,
        target_labels,
        &mut app,
        text,
        format,
        default_ts,
        &mut counts,
        &mut errs,
        &mut sample_limit_hit,
    );
    let mut result = result.and_then(|()| {
        if sample_limit_hit {
            Err(SAMPLE_LIMIT_ERROR.to_owned())
        } else {
            Ok(())
        }
    });
    if errs.out_of_order > 0 {
        tracing::warn!(
            num_dropped = errs.out_of_order,
            "error on ingesting out-of-order samples"
        );
    }
    if errs.duplicate > 0 {
        tracing::warn!(
            num_dropped = errs.duplicate,
            "error on ingesting samples with different value but same timestamp"
        );
    }
    if errs.out_of_bounds > 0 {
        tracing::warn!(
            num_dropped = errs.out_of_bounds,
            "error on ingesting samples that are too old or are too far into the future"
        );
    }
    if result.is_ok() {
        let no_labels = Labels::empty();
        result = update_stale_markers(&mut st.cache, |r| {
            app.append(Some(r), &no_labels, default_ts, stale_nan())
                .map(|_| ())
        });
        if result.is_ok() {
            st.cache.iter_done(true);
        }
    }
    (counts, result)
}

/// Sorts an append result: `Ok(Some(ref))` when appended, `Ok(None)` for a per-sample
/// error (counted; the scrape goes on), `Err` for a storage failure.
fn classify(
    res: Result<u64, AddError>,
    errs: &mut SampleErrors,
    sample_limit_hit: &mut bool,
) -> Result<Option<u64>, String> {
    match res {
        Ok(r) => return Ok(Some(r)),
        Err(AddError::SampleLimit) => *sample_limit_hit = true,
        Err(AddError::Append(AppendError::OutOfOrder)) => errs.out_of_order += 1,
        Err(AddError::Append(AppendError::DuplicateTimestamp)) => errs.duplicate += 1,
        Err(AddError::Append(AppendError::OutOfBounds)) => errs.out_of_bounds += 1,
        Err(AddError::Append(AppendError::Storage(e))) => return Err(e),
        Err(AddError::Append(e @ AppendError::UnknownRef)) => return Err(e.to_string()),
    }
    Ok(None)
}

/// The final labels of a sample line (target labels, honor_labels and
/// `metric_relabel_configs` applied); `None` when relabeling drops it.
#[allow(clippy::too_many_arguments)]
fn derive_labels(
    mutator: &mut Mutator,
    opts: &AppendOptions,
    target_labels: &Labels,
    raw: &str,
    parsed: Option<(Cow<'_, str>, LabelPairs<'_>)>,
    format: Format,
    line_no: usize,
) -> Result<Option<Labels>, String> {
    let (name, pairs) = match parsed {
        Some(p) => p,
        None => match full_parse(raw, format, line_no)? {
            Some(Entry::Sample { name, labels, .. }) => (name, labels),
            _ => return Err(format!("line {line_no}: expected a sample")),
        },
    };
    let scraped = samples_to_labels(&name, &pairs).map_err(|e| format!("line {line_no}: {e}"))?;
    Ok(mutator.mutate_sample_labels(
        &scraped,
        target_labels,
        opts.honor_labels,
        &opts.metric_relabel_configs,
    ))
}

#[allow(clippy::too_many_arguments)]
fn append_lines(
    st: &mut AppendState,
    opts: &AppendOptions,
    target_labels: &Labels,
    app: &mut Limited<'_>,
    text: &str,
    format: Format,
    default_ts: i64,
    counts: &mut Appended,
    errs: &mut SampleErrors,
    sample_limit_hit: &mut bool,
) -> Result<(), String> {
    let om = format == Format::OpenMetrics;
    let no_labels = Labels::empty();
    let mut rest = text;
    let mut line_no = 0usize;
    let mut eof = false;
    while !rest.is_empty() {
        let (raw, next) = match rest.find('\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        rest = next;
        line_no += 1;
        if eof {
            return Err(strata_textparse::Error::DataAfterEof { line: line_no }.to_string());
        }
        let line = if om {
            raw
        } else {
            raw.trim_start_matches([' ', '\t'])
        };
        if !om && line.is_empty() {
            continue;
        }
        if line.is_empty() {
            return Err(strata_textparse::Error::Syntax {
                line: line_no,
                reason: "unexpected empty line".to_owned(),
            }
            .to_string());
        }
        if line.starts_with('#') {
            // Metadata, comments, `# EOF`.
            if let Some(Entry::Eof) = full_parse(raw, format, line_no)? {
                eof = true;
            }
            continue;
        }
        counts.total += 1;
        let end = series_end(line, format);
        let fast = end.and_then(|e| parse_tail(&line[e..], format));
        let mut parsed = None;
        let (value, parsed_ts) = match fast {
            Some(x) => x,
            None => match full_parse(raw, format, line_no)? {
                Some(Entry::Sample {
                    name,
                    labels,
                    value,
                    timestamp_ms,
                    ..
                }) => {
                    parsed = Some((name, labels));
                    (value, timestamp_ms)
                }
                _ => return Err(format!("line {line_no}: expected a sample")),
            },
        };
        let series_text = end.map(|e| &line[..e]);
        let ts = if opts.honor_timestamps {
            parsed_ts
        } else {
            None
        };
        let t = ts.unwrap_or(default_ts);
        let track = ts.is_none() || opts.track_timestamps_staleness;
        // A series text is either cached or dropped, never both: look up the common
        // case first.
        let hit = series_text.and_then(|s| st.cache.get(s));
        if let Some((idx, again)) = hit {
            let old_ref = st.cache.entry(idx).series_ref;
            let mut res = if again && ts.is_none() {
                Err(AddError::Append(AppendError::DuplicateTimestamp))
            } else {
                app.append(Some(old_ref), &no_labels, t, value)
            };
            if let Err(AddError::Append(AppendError::UnknownRef)) = res {
                // The storage dropped the series since: derive its labels again.
                let labels = derive_labels(
                    &mut st.mutator,
                    opts,
                    target_labels,
                    raw,
                    parsed.take(),
                    format,
                    line_no,
                )?;
                let Some(labels) = labels else {
                    continue;
                };
                res = app.append_again(&labels, t, value);
            }
            if let Some(r) = classify(res, errs, sample_limit_hit)? {
                if r != old_ref {
                    st.cache.update_ref(idx, r);
                }
                if track {
                    st.cache.track(idx);
                }
            }
        } else if series_text.is_some_and(|s| st.cache.is_dropped(s)) {
            continue;
        } else {
            let labels = derive_labels(
                &mut st.mutator,
                opts,
                target_labels,
                raw,
                parsed.take(),
                format,
                line_no,
            )?;
            let Some(labels) = labels else {
                if let Some(s) = series_text {
                    st.cache.add_dropped(s);
                }
                continue;
            };
            check_series(&labels, opts.validation, opts.label_limits)?;
            let res = app.append(None, &labels, t, value);
            if let Some(r) = classify(res, errs, sample_limit_hit)?
                && let Some(s) = series_text
            {
                let idx = st.cache.add(s, r);
                if track {
                    st.cache.track(idx);
                }
                if !*sample_limit_hit {
                    counts.series_added += 1;
                }
            }
        }
        counts.added += 1;
    }
    if om && !eof {
        return Err(strata_textparse::Error::MissingEof {
            line: line_no.max(1),
        }
        .to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn content_types_and_fallback() {
        let om = "application/openmetrics-text; version=1.0.0; charset=utf-8";
        assert_eq!(format_for(om, None), Ok(Format::OpenMetrics));
        assert_eq!(format_for("Text/Plain", None), Ok(Format::PrometheusText));
        assert!(
            format_for("", None)
                .unwrap_err()
                .contains("blank Content-Type")
        );
        assert!(format_for("application/json", None).is_err());
        assert_eq!(
            format_for(
                "application/json",
                Some(ScrapeProtocol::OpenMetricsText1_0_0)
            ),
            Ok(Format::OpenMetrics)
        );
        assert!(format_for("application/vnd.google.protobuf; proto=x", None).is_err());
    }
}
