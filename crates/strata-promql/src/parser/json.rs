//! The syntax tree as the JSON document `/api/v1/parse_query` returns: the shape of
//! Prometheus' `translateAST` (object keys sorted, as Go's `map` marshalling sorts them).

use serde_json::{Map, Value, json};

use super::ast::{AtModifier, Cardinality, Duration, Expr, UnaryOp, VectorSelector};

fn number_text(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else if v == v.trunc() && v.abs() < 1e21 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

fn ms(d: &Option<Duration>) -> i64 {
    // Duration expressions are resolved at evaluation; unresolved ones report 0 like an
    // absent value.
    match d {
        Some(Duration::Ms(ms)) => *ms,
        Some(Duration::Expr(e)) => e.eval_seconds(0, 0).map_or(0, |s| (s * 1000.0) as i64),
        None => 0,
    }
}

fn at(at: &Option<AtModifier>) -> (Value, Value) {
    match at {
        Some(AtModifier::Timestamp(t)) => (json!(t), Value::Null),
        Some(AtModifier::Start) => (Value::Null, json!("start")),
        Some(AtModifier::End) => (Value::Null, json!("end")),
        None => (Value::Null, Value::Null),
    }
}

fn selector_fields(vs: &VectorSelector, o: &mut Map<String, Value>) {
    let matchers: Vec<Value> = vs
        .matchers
        .iter()
        .map(|m| json!({"name": m.name, "type": m.kind.as_str(), "value": m.value}))
        .collect();
    let (ts, start_or_end) = at(&vs.at);
    o.insert("name".into(), json!(vs.name.clone().unwrap_or_default()));
    o.insert("offset".into(), json!(ms(&vs.offset)));
    o.insert("matchers".into(), Value::Array(matchers));
    o.insert("timestamp".into(), ts);
    o.insert("startOrEnd".into(), start_or_end);
    o.insert("anchored".into(), json!(vs.anchored));
    o.insert("smoothed".into(), json!(vs.smoothed));
}

/// The JSON tree of `expr`.
pub fn to_json(expr: &Expr) -> Value {
    match expr {
        Expr::Number(n) => json!({"type": "numberLiteral", "val": number_text(n.value)}),
        Expr::String(s) => json!({"type": "stringLiteral", "val": s}),
        Expr::Paren(e) => json!({"type": "parenExpr", "expr": to_json(e)}),
        Expr::Unary(u) => json!({
            "type": "unaryExpr",
            "op": if u.op == UnaryOp::Neg { "-" } else { "+" },
            "expr": to_json(&u.expr),
        }),
        Expr::VectorSelector(vs) => {
            let mut o = Map::new();
            o.insert("type".into(), json!("vectorSelector"));
            selector_fields(vs, &mut o);
            Value::Object(o)
        }
        Expr::MatrixSelector(m) => {
            let mut o = Map::new();
            o.insert("type".into(), json!("matrixSelector"));
            selector_fields(&m.selector, &mut o);
            o.insert("range".into(), json!(ms(&Some(m.range.clone()))));
            Value::Object(o)
        }
        Expr::Subquery(s) => {
            let (ts, start_or_end) = at(&s.at);
            json!({
                "type": "subquery",
                "expr": to_json(&s.expr),
                "range": ms(&Some(s.range.clone())),
                "offset": ms(&s.offset),
                "step": ms(&s.step),
                "timestamp": ts,
                "startOrEnd": start_or_end,
                "alignEvalTime": false,
            })
        }
        Expr::Aggregate(a) => json!({
            "type": "aggregation",
            "op": a.op.as_str(),
            "expr": to_json(&a.expr),
            "param": a.param.as_ref().map_or(Value::Null, |p| to_json(p)),
            "grouping": a.grouping,
            "without": a.without,
        }),
        Expr::Binary(b) => {
            let matching = b.matching.as_ref().map_or(Value::Null, |m| {
                let card = match m.card {
                    Cardinality::OneToOne => "one-to-one",
                    Cardinality::ManyToOne => "many-to-one",
                    Cardinality::OneToMany => "one-to-many",
                    Cardinality::ManyToMany => "many-to-many",
                };
                json!({
                    "card": card,
                    "labels": m.labels,
                    "on": m.on,
                    "include": m.include,
                    "fillValues": {"lhs": m.fill.lhs, "rhs": m.fill.rhs},
                })
            });
            json!({
                "type": "binaryExpr",
                "op": b.op.as_str(),
                "lhs": to_json(&b.lhs),
                "rhs": to_json(&b.rhs),
                "matching": matching,
                "bool": b.return_bool,
            })
        }
        Expr::Call(c) => {
            let arg_types: Vec<&str> = c.func.arg_types.iter().map(|t| t.as_str()).collect();
            json!({
                "type": "call",
                "func": {
                    "name": c.func.name,
                    "argTypes": arg_types,
                    "variadic": c.func.variadic,
                    "returnType": c.func.return_type.as_str(),
                },
                "args": c.args.iter().map(to_json).collect::<Vec<_>>(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    #[test]
    fn matches_prometheus_translate_ast() {
        let got = to_json(&parse("sum by (job) (rate(up{job=\"a\"}[5m] offset 1m))").unwrap());
        let want = r#"{"expr":{"args":[{"anchored":false,"matchers":[{"name":"job","type":"=","value":"a"},{"name":"__name__","type":"=","value":"up"}],"name":"up","offset":60000,"range":300000,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"matrixSelector"}],"func":{"argTypes":["matrix"],"name":"rate","returnType":"vector","variadic":0},"type":"call"},"grouping":["job"],"op":"sum","param":null,"type":"aggregation","without":false}"#;
        assert_eq!(got.to_string(), want);
        let got = to_json(&parse("1 + foo @ end()").unwrap()).to_string();
        assert!(got.contains(r#""startOrEnd":"end""#), "{got}");
        assert!(got.contains(r#""val":"1""#), "{got}");
    }
}
