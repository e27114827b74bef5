//! Unit tests: constructs, precedence, type errors, printer goldens, no panics.

use proptest::prelude::*;
use strata_model::MatchType;

use super::*;

fn p(s: &str) -> Expr {
    parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn printed(s: &str) -> String {
    p(s).to_string()
}

fn err(s: &str) -> String {
    match parse(s) {
        Ok(e) => panic!("{s} parsed as {e}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn literals() {
    assert_eq!(
        p("1"),
        Expr::Number(NumberLiteral {
            value: 1.0,
            duration: false
        })
    );
    assert_eq!(
        p("0x1F"),
        Expr::Number(NumberLiteral {
            value: 31.0,
            duration: false
        })
    );
    assert_eq!(
        p("-1.5e3"),
        Expr::Number(NumberLiteral {
            value: -1500.0,
            duration: false
        })
    );
    assert_eq!(
        p("5m"),
        Expr::Number(NumberLiteral {
            value: 300.0,
            duration: true
        })
    );
    assert!(matches!(p("NaN"), Expr::Number(n) if n.value.is_nan()));
    assert_eq!(
        p("-Inf"),
        Expr::Number(NumberLiteral {
            value: f64::NEG_INFINITY,
            duration: false
        })
    );
    assert_eq!(p(r#""a\tb""#), Expr::String("a\tb".into()));
    assert_eq!(p("`raw\\n`"), Expr::String("raw\\n".into()));
    assert_eq!(p("'single'").value_type(), ValueType::String);
}

#[test]
fn selectors() {
    let Expr::VectorSelector(vs) = p(r#"foo{a="b", c=~"d.*", "utf8.name"!="x",}"#) else {
        panic!()
    };
    assert_eq!(vs.name.as_deref(), Some("foo"));
    assert_eq!(vs.matchers.len(), 4);
    assert_eq!(vs.matchers[1].kind, MatchType::Regex);
    assert_eq!(vs.matchers[2].name, "utf8.name");
    assert_eq!(
        (vs.matchers[3].name.as_str(), vs.matchers[3].value.as_str()),
        ("__name__", "foo")
    );
    let Expr::VectorSelector(vs) = p(r#"{"quoted.metric", a="b"}"#) else {
        panic!()
    };
    assert_eq!(vs.name, None);
    assert_eq!(vs.matchers[0].value, "quoted.metric");
    let Expr::MatrixSelector(ms) = p("job:rate5m[1h30m] offset -5m @ 100") else {
        panic!()
    };
    assert_eq!(ms.range, Duration::Ms(5_400_000));
    assert_eq!(ms.selector.offset, Some(Duration::Ms(-300_000)));
    assert_eq!(ms.selector.at, Some(AtModifier::Timestamp(100_000)));
    let Expr::VectorSelector(vs) = p("foo @ end() offset 1m") else {
        panic!()
    };
    assert_eq!(vs.at, Some(AtModifier::End));
    let Expr::MatrixSelector(ms) = p("foo[1m] anchored") else {
        panic!()
    };
    assert!(ms.selector.anchored);
    let Expr::VectorSelector(vs) = p("foo smoothed") else {
        panic!()
    };
    assert!(vs.smoothed);
    // Keywords can be metric names.
    assert!(matches!(p("sum"), Expr::VectorSelector(_)));
    assert!(matches!(p("fill + fill(0) other"), Expr::Binary(_)));
}

#[test]
fn subqueries_and_durations() {
    let Expr::Subquery(sq) = p("rate(x[5m])[1h:5m] offset 1m @ start()") else {
        panic!()
    };
    assert_eq!(
        (sq.range.clone(), sq.step.clone()),
        (Duration::Ms(3_600_000), Some(Duration::Ms(300_000)))
    );
    assert_eq!(sq.at, Some(AtModifier::Start));
    let Expr::Subquery(sq) = p("x[1h:]") else {
        panic!()
    };
    assert_eq!(sq.step, None);
    let Expr::MatrixSelector(ms) = p("x[5m+1m]") else {
        panic!()
    };
    assert_eq!(ms.range.resolve(0, 0, false), Ok(360_000));
    let Expr::MatrixSelector(ms) = p("x[step()*2]") else {
        panic!()
    };
    assert_eq!(ms.range.resolve(15_000, 0, false), Ok(30_000));
    assert_eq!(
        ms.range.resolve(0, 0, false),
        Err("duration must be greater than 0".into())
    );
    let Expr::VectorSelector(vs) = p("x offset min_of(step(), 1s)") else {
        panic!()
    };
    assert_eq!(vs.offset.unwrap().resolve(5000, 0, true), Ok(1000));
    // `offset 100 + 2` is `(x offset 100) + 2`; `offset -2 ^ 2` is `(x offset -2) ^ 2`.
    assert!(matches!(p("x offset 100 + 2"), Expr::Binary(_)));
    assert!(matches!(p("x offset -2 ^ 2"), Expr::Binary(b) if b.op == BinaryOp::Pow));
    let Expr::VectorSelector(vs) = p("x offset (100 + 2)") else {
        panic!()
    };
    assert_eq!(vs.offset.unwrap().resolve(0, 0, true), Ok(102_000));
    let Expr::Subquery(sq) = p("x[29s+1s:((((8 - 2) / 3) * 7s) % 4) + 8000ms]") else {
        panic!()
    };
    assert_eq!(sq.step.unwrap().resolve(0, 0, false), Ok(10_000));
    assert_eq!(printed("x[1h/2]"), "x[1h / 2]");
}

#[test]
fn precedence() {
    assert_eq!(printed("1 + 2 * 3"), "1 + 2 * 3");
    let Expr::Binary(b) = p("a + b * c") else {
        panic!()
    };
    assert_eq!(b.op, BinaryOp::Add);
    let Expr::Binary(b) = p("a - b - c") else {
        panic!()
    };
    assert!(matches!(*b.lhs, Expr::Binary(_)));
    let Expr::Binary(b) = p("a ^ b ^ c") else {
        panic!()
    };
    assert!(matches!(*b.rhs, Expr::Binary(_)), "^ is right-associative");
    let Expr::Binary(b) = p("a or b and c unless d") else {
        panic!()
    };
    assert_eq!(b.op, BinaryOp::Or);
    let Expr::Binary(b) = p("a > b + c") else {
        panic!()
    };
    assert_eq!(b.op, BinaryOp::Gtr);
    let Expr::Binary(b) = p("a atan2 b + c") else {
        panic!()
    };
    assert_eq!(b.op, BinaryOp::Add);
    // Unary minus binds like `*` but looser than `^`.
    let Expr::Unary(u) = p("-a ^ 2") else {
        panic!()
    };
    assert!(matches!(*u.expr, Expr::Binary(_)));
    let Expr::Binary(b) = p("-a * 2") else {
        panic!()
    };
    assert!(matches!(*b.lhs, Expr::Unary(_)));
    assert_eq!(
        p("-2 ^ 2"),
        Expr::Unary(UnaryExpr {
            op: UnaryOp::Neg,
            expr: Box::new(p("2 ^ 2"))
        })
    );
    let Expr::Binary(b) = p("h </ 2 >/ 1") else {
        panic!()
    };
    assert_eq!(b.op, BinaryOp::TrimLower);
}

#[test]
fn binary_modifiers() {
    let Expr::Binary(b) = p("a + on(b) group_left(c) fill_left(1) fill_right(-2) d") else {
        panic!()
    };
    let m = b.matching.unwrap();
    assert_eq!(m.card, Cardinality::ManyToOne);
    assert!(m.on);
    assert_eq!(
        (m.labels, m.include),
        (vec!["b".to_string()], vec!["c".to_string()])
    );
    assert_eq!((m.fill.lhs, m.fill.rhs), (Some(1.0), Some(-2.0)));
    let Expr::Binary(b) = p("a and b") else {
        panic!()
    };
    assert_eq!(b.matching.unwrap().card, Cardinality::ManyToMany);
    let Expr::Binary(b) = p("a > bool 1") else {
        panic!()
    };
    assert!(b.return_bool && b.matching.is_none());
    let Expr::Binary(b) = p("a * ignoring(x) group_right b") else {
        panic!()
    };
    assert_eq!(b.matching.unwrap().card, Cardinality::OneToMany);
    assert_eq!(p("1 == bool 2").value_type(), ValueType::Scalar);
}

#[test]
fn aggregations_and_calls() {
    for q in ["sum by (a) (x)", "sum(x) by (a)", "SUM BY (a) (x)"] {
        let Expr::Aggregate(a) = p(q) else { panic!() };
        assert_eq!(
            (a.op, a.grouping.clone(), a.without),
            (AggregateOp::Sum, vec!["a".into()], false)
        );
    }
    let Expr::Aggregate(a) = p("topk without (\"x.y\", b) (3, x)") else {
        panic!()
    };
    assert_eq!(
        (a.op, a.without, a.grouping.len()),
        (AggregateOp::Topk, true, 2)
    );
    assert!(a.param.is_some());
    let Expr::Aggregate(a) = p("count_values(\"v\", x)") else {
        panic!()
    };
    assert_eq!(a.param.as_deref(), Some(&Expr::String("v".into())));
    assert!(matches!(p("limit_ratio(0.5, x)"), Expr::Aggregate(_)));
    let Expr::Call(c) = p("label_join(x, \"a\", \",\", \"b\", \"c\")") else {
        panic!()
    };
    assert_eq!((c.func.name, c.args.len()), ("label_join", 5));
    assert_eq!(p("time()").value_type(), ValueType::Scalar);
    assert_eq!(p("round(x)").value_type(), ValueType::Vector);
    let Expr::Call(c) = p(r#"info(x, {k=~".+"})"#) else {
        panic!()
    };
    assert_eq!(c.func.name, "info");
    assert!(
        parse(r#"info(x, {k=~".*"})"#).is_ok(),
        "info lifts the empty-matcher check"
    );
}

#[test]
fn errors() {
    let cases = [
        (
            "rate(x)",
            "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector",
        ),
        (
            "1 < 2",
            "1:3: parse error: comparisons between scalars must use BOOL modifier",
        ),
        (
            "1 and x",
            "1:3: parse error: set operator \"and\" not allowed in binary scalar expression",
        ),
        (
            "a and on(b) group_left c",
            "1:3: parse error: no grouping allowed for \"and\" operation",
        ),
        (
            "a + bool b",
            "1:3: parse error: bool modifier can only be used on comparison operators",
        ),
        (
            "1 + on(a) x",
            "1:3: parse error: vector matching only allowed between instant vectors",
        ),
        (
            "{}",
            "1:1: parse error: vector selector must contain at least one non-empty matcher",
        ),
        (
            "{a=~\".*\"}",
            "1:1: parse error: vector selector must contain at least one non-empty matcher",
        ),
        (
            "foo{__name__=\"bar\"}",
            "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\"",
        ),
        (
            "sum(x, y)",
            "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2",
        ),
        (
            "topk(x)",
            "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1",
        ),
        (
            "foo(x)",
            "1:1: parse error: unknown function with name \"foo\"",
        ),
        (
            "round()",
            "1:1: parse error: expected at least 1 argument(s) in call to \"round\", got 0",
        ),
        (
            "round(x, 1, 2)",
            "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3",
        ),
        (
            "time(1)",
            "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1",
        ),
        (
            "sum(rate(x[5m]), )",
            "1:16: parse error: trailing commas not allowed in function call args",
        ),
        (
            "x[5m] offset 1m offset 2m",
            "1:1: parse error: offset may not be set multiple times",
        ),
        (
            "x offset 1m[5m]",
            "1:12: parse error: no offset modifiers allowed before range",
        ),
        (
            "(x)[5m]",
            "1:4: parse error: ranges only allowed for vector selectors",
        ),
        ("x[0]", "1:3: parse error: duration must be greater than 0"),
        (
            "x[5m:0]",
            "1:6: parse error: duration must be greater than 0",
        ),
        ("x[5m/0]", "1:5: parse error: division by zero"),
        (
            "-x[5m]",
            "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\"",
        ),
        (
            "x[5m][1h:]",
            "1:1: parse error: subquery is only allowed on instant vector, got matrix instead",
        ),
        (
            "x[1m] anchored smoothed",
            "1:1: parse error: anchored and smoothed modifiers cannot be used together",
        ),
        (
            "x[5m:1m] anchored",
            "1:1: parse error: anchored modifier is not supported for subqueries",
        ),
        (
            "1 offset 1m",
            "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
        ),
        (
            "sum(x) by (\"\")",
            "1:12: parse error: invalid label name for grouping: \"\"",
        ),
        (
            "a and fill(0) b",
            "1:3: parse error: filling in missing series not allowed for set operators",
        ),
        (
            "a * on(b) group_left(b) c",
            "1:3: parse error: label \"b\" must not occur in ON and GROUP clause at once",
        ),
        ("", "1:1: parse error: no expression found in input"),
        ("x +", "1:4: parse error: unexpected end of input"),
        ("sum(x", "1:6: parse error: unclosed left parenthesis"),
        ("x)", "1:2: parse error: unexpected right parenthesis ')'"),
        (
            "x{a=1}",
            "1:5: parse error: unexpected character inside braces: '1'",
        ),
        (
            "x{a}",
            "1:4: parse error: unexpected } in label matching, expected label matching operator",
        ),
        ("x[5m", "1:5: parse error: unclosed left bracket"),
        (
            "x offset",
            "1:9: parse error: unexpected end of input in offset, expected number, duration, step(), or range()",
        ),
        (
            "x @ foo",
            "1:5: parse error: unexpected identifier \"foo\" in @, expected timestamp",
        ),
        ("\"abc", "1:1: parse error: unterminated quoted string"),
        ("x{a=~\"(\"}", "1:3: parse error:"),
        (
            "info(x, y)",
            "1:9: parse error: expected label selectors only, got vector selector instead",
        ),
    ];
    for (q, want) in cases {
        let got = err(q);
        assert!(got.starts_with(want), "{q}:\n got  {got}\n want {want}");
    }
}

#[test]
fn printer_golden() {
    let cases = [
        ("sum by (a) (x)", "sum by (a) (x)"),
        ("sum(x) by (a,b)", "sum by (a, b) (x)"),
        ("sum without () (x)", "sum without () (x)"),
        ("sum by () (x)", "sum(x)"),
        ("topk(3, x)", "topk(3, x)"),
        ("rate(x[5m] offset 1m)", "rate(x[5m] offset 1m)"),
        ("a + on (b) group_left (c) d", "a + on (b) group_left (c) d"),
        ("a+on(b)group_left d", "a + on (b) group_left () d"),
        ("a + ignoring(b) c", "a + ignoring (b) c"),
        ("a + ignoring() c", "a + c"),
        ("a and on() b", "a and on () b"),
        ("a == bool 1", "a == bool 1"),
        ("a + fill(0) b", "a + fill (0) b"),
        (
            "a + fill_left(1) fill_right(2) b",
            "a + fill_left (1) fill_right (2) b",
        ),
        ("a + fill_right(1) fill_left(1) b", "a + fill (1) b"),
        (r#"foo{b="2",a="1"}"#, r#"foo{a="1",b="2"}"#),
        (r#"{__name__="foo"}"#, r#"{__name__="foo"}"#),
        (
            r#"{"foo.bar", "a.b"="c"}"#,
            r#"{"a.b"="c",__name__="foo.bar"}"#,
        ),
        ("foo @ 100 offset 5m", "foo @ 100.000 offset 5m"),
        ("foo offset -5m @ start()", "foo @ start() offset -5m"),
        ("foo[5m] @ end() anchored", "foo[5m] anchored @ end()"),
        ("foo smoothed", "foo smoothed"),
        ("x[90m]", "x[1h30m]"),
        ("x[7d]", "x[1w]"),
        ("x[60]", "x[1m]"),
        ("rate(x[5m])[30m:1m]", "rate(x[5m])[30m:1m]"),
        ("x[30m:]", "x[30m:]"),
        ("x[step()]", "x[step()]"),
        ("x[(5m)]", "x[(5m)]"),
        ("x[((5m))]", "x[(5m)]"),
        ("x[-step()+10m]", "x[-step() + 10m]"),
        (
            "x offset -(min_of(step(), 1s))",
            "x offset -(min_of(step(), 1s))",
        ),
        ("x[max_of(1m,range())]", "x[max_of(1m, range())]"),
        ("1e3", "1000"),
        ("0x10", "16"),
        ("-Inf", "-Inf"),
        ("nan", "NaN"),
        ("5m", "5m"),
        ("-5m", "-5m"),
        ("+x", "+x"),
        ("-(x)", "-(x)"),
        (r#""a\"b""#, r#""a\"b""#),
        ("'x'", r#""x""#),
        (
            "label_replace(x, \"a\", \"$1\", \"b\", \"(.*)\")",
            "label_replace(x, \"a\", \"$1\", \"b\", \"(.*)\")",
        ),
        ("count_values(\"v\", x)", "count_values(\"v\", x)"),
        ("sum(x) by (\"a.b\")", "sum by (\"a.b\") (x)"),
        ("(a + b) * c", "(a + b) * c"),
        ("a atan2 b", "a atan2 b"),
        ("h </ 1", "h </ 1"),
    ];
    for (q, want) in cases {
        assert_eq!(printed(q), want, "{q}");
    }
}

#[test]
fn error_positions_are_line_and_column() {
    assert!(err("sum(\n  rate(x)\n)").starts_with("2:8: parse error:"));
}

proptest! {
    #[test]
    fn random_input_never_panics(s in "\\PC{0,40}") {
        let _ = parse(&s);
    }

    #[test]
    fn promql_like_input_never_panics(s in "[a-z_{}()\\[\\]=~!\"'`,:@+*/%^<>0-9. \\-#]{0,40}") {
        if let Ok(e) = parse(&s) {
            let again = parse(&e.to_string());
            prop_assert!(again.is_ok(), "{} printed as {} fails: {:?}", s, e, again);
        }
    }
}
