//! Parses every `eval` query of the shared promqltest files and checks the round trip
//! `parse(print(parse(x))) == parse(x)`.

use super::{Expr, parse};

/// Sorts selector matchers (the printer sorts them, as Prometheus' does).
fn normalized(e: Expr) -> Expr {
    let sort = |v: &mut super::VectorSelector| {
        v.matchers.sort_by(|a, b| {
            (&a.name, a.kind.as_str(), &a.value).cmp(&(&b.name, b.kind.as_str(), &b.value))
        })
    };
    let b = |e: Box<Expr>| Box::new(normalized(*e));
    match e {
        Expr::VectorSelector(mut v) => {
            sort(&mut v);
            Expr::VectorSelector(v)
        }
        Expr::MatrixSelector(mut m) => {
            sort(&mut m.selector);
            Expr::MatrixSelector(m)
        }
        Expr::Subquery(mut s) => {
            s.expr = b(s.expr);
            Expr::Subquery(s)
        }
        Expr::Paren(e) => Expr::Paren(b(e)),
        Expr::Unary(mut u) => {
            u.expr = b(u.expr);
            Expr::Unary(u)
        }
        Expr::Binary(mut x) => {
            x.lhs = b(x.lhs);
            x.rhs = b(x.rhs);
            Expr::Binary(x)
        }
        Expr::Aggregate(mut a) => {
            a.expr = b(a.expr);
            a.param = a.param.map(b);
            Expr::Aggregate(a)
        }
        Expr::Call(mut c) => {
            c.args = c.args.into_iter().map(normalized).collect();
            Expr::Call(c)
        }
        e => e,
    }
}

struct EvalQuery {
    file: String,
    line: usize,
    query: String,
    expect_fail: bool,
}

/// Drops the first `n` whitespace-separated words of `s`.
fn skip_words(s: &str, n: usize) -> &str {
    let mut rest = s.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest
}

fn eval_queries() -> Vec<EvalQuery> {
    let dir = strata_testkit::shared_dir().join("testdata/promql");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("promql testdata dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read test file");
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let lines: Vec<&str> = text.split('\n').map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            let first = line.split_whitespace().next().unwrap_or("").to_lowercase();
            if !first.starts_with("eval") {
                continue;
            }
            let kind = line.split_whitespace().nth(1).unwrap_or("");
            let query = match kind {
                "instant" => skip_words(line, 4),
                "range" => skip_words(line, 8),
                _ => continue,
            };
            let mut expect_fail = first == "eval_fail";
            for l in &lines[i + 1..] {
                if l.is_empty() || l.starts_with('#') {
                    break;
                }
                if l.starts_with("expect fail") {
                    expect_fail = true;
                }
            }
            out.push(EvalQuery {
                file: name.clone(),
                line: i + 1,
                query: query.to_string(),
                expect_fail,
            });
        }
    }
    out
}

#[test]
fn parses_every_eval_query_of_the_test_files() {
    let queries = eval_queries();
    assert!(
        queries.len() > 2000,
        "found only {} eval queries",
        queries.len()
    );
    let (mut ok, mut total, mut failing_ok, mut failing_total) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for q in &queries {
        let res = parse(&q.query);
        if q.expect_fail {
            failing_total += 1;
            failing_ok += usize::from(res.is_ok());
            if let Err(e) = res {
                println!(
                    "expect-fail query does not parse: {}:{}: {}\n    {e}",
                    q.file, q.line, q.query
                );
            }
            continue;
        }
        total += 1;
        match res {
            Ok(_) => ok += 1,
            Err(e) => failures.push(format!("{}:{}: {}\n    {e}", q.file, q.line, q.query)),
        }
    }
    println!(
        "parsed {ok}/{total} eval queries ({:.2}%); {failing_ok}/{failing_total} of the `expect fail` ones",
        100.0 * ok as f64 / total as f64
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(ok * 100 >= total * 98, "only {ok}/{total} parse");
}

#[test]
fn printing_round_trips_for_every_eval_query() {
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for q in eval_queries() {
        let Ok(ast) = parse(&q.query) else { continue };
        let printed = ast.to_string();
        match parse(&printed) {
            Ok(again) => {
                if format!("{:?}", normalized(again.clone()))
                    != format!("{:?}", normalized(ast.clone()))
                {
                    mismatches.push(format!(
                        "{}: {}\n  printed: {printed}\n  reprinted: {again}",
                        q.file, q.query
                    ));
                }
            }
            Err(e) => mismatches.push(format!(
                "{}: {}\n  printed: {printed}\n  error: {e}",
                q.file, q.query
            )),
        }
        checked += 1;
    }
    for m in &mismatches {
        println!("MISMATCH {m}");
    }
    assert!(checked > 2000);
    assert!(
        mismatches.is_empty(),
        "{} round-trip mismatches",
        mismatches.len()
    );
}
