//! Language, semantics and the bundled Bitsight rule.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use serde_json::{Map, Value, json};
use xdm_modeling::testdata::{Outcome, TestData, run_event};
use xdm_modeling::{ApplyError, BITSIGHT_DATASET, CompileError, Rules, Schema, bitsight_model};

/// Evaluates `expr` against `event` through a temporary, read back through an array so the
/// value keeps its own type (a string XDM field would cast it).
fn eval(expr: &str, event: &Value) -> Value {
    let source =
        format!("[MODEL: dataset=t]\nalter v = {expr} | alter xdm.event.tags = arraycreate(v);");
    let rules = Rules::parse("t.xif", source);
    let errors: Vec<_> = rules
        .check()
        .into_iter()
        .filter(xdm_modeling::Diagnostic::is_error)
        .collect();
    assert!(errors.is_empty(), "{expr}: {}", rules.render(&errors));
    let model = rules.compile(None, None).unwrap();
    let record = model.apply_value(event).unwrap().unwrap();
    record["xdm.event.tags"][0].clone()
}

#[test]
fn function_semantics() {
    let event = json!({
        "s": " Hello World ", "n": 42, "f": 1.5, "arr": ["a", "b", "a"], "ip": "10.1.2.3",
        "obj": {"a": {"b": [1, {"c": "deep"}]}, "odd.key": "x", "t": true},
        "text": "{\"k\": [\"v1\", \"v2\"], \"num\": 7}", "empty": "",
        "big": 4551618356913732000_u64, "time": "2023-10-21T03:42:05Z",
    });
    let cases = [
        "to_string(n)",
        "to_string(f)",
        "to_string(arr)",
        "to_string(big)",
        "to_integer(\"12\")",
        "to_integer(\"1.5\")",
        "to_number(n)",
        "to_float(\"2\")",
        "to_boolean(\"TRUE\")",
        "lowercase(s)",
        "uppercase(s)",
        "trim(s)",
        "ltrim(s)",
        "rtrim(s)",
        "trim(\"--x--\", \"-\")",
        "concat(\"a\", n, \"b\")",
        "concat(\"a\", missing)",
        "coalesce(missing, empty, s)",
        "coalesce(missing, null)",
        "replace(s, \"l\", \"L\")",
        "replex(s, \"[aeiou]\", \"_\")",
        "split(\"a,b,c\", \",\")",
        "split(\"a b\")",
        "len(s)",
        "string_count(s, \"l\")",
        "format_string(\"%s-%d\", \"x\", n)",
        "regextract(s, \"[A-Z]\\w+\")",
        "arrayindex(regextract(s, \"(\\w+) (\\w+)\"), 0)",
        "arrayindex(arr, -1)",
        "arrayindex(arr, 9)",
        "arraystring(arr, \"|\")",
        "arraydistinct(arr)",
        "arrayconcat(arr, arraycreate(\"z\"))",
        "array_length(arr)",
        "arraymap(arr, uppercase(\"@element\"))",
        "arrayfilter(arr, \"@element\" = \"a\")",
        "arrayindexof(arr, \"@element\" = \"b\")",
        "array_any(arr, \"@element\" = \"b\")",
        "array_all(arr, \"@element\" = \"b\")",
        "arrayrange(arr, 1, 3)",
        "json_extract_scalar(obj, \"$.a.b[1].c\")",
        "json_extract_scalar(obj, \"$['odd.key']\")",
        "json_extract_scalar(obj, \"$.t\")",
        "json_extract(obj, \"$.a.b\")",
        "json_extract_array(text, \"$.k\")",
        "json_extract_scalar_array(text, \"$.k\")",
        "text -> num",
        "obj -> a.b.1.c",
        "obj -> [\"odd.key\"]",
        "text -> k[]",
        "obj -> a{}",
        "object_create(\"k\", n, \"m\", null)",
        "add(n, 1)",
        "add(n, f)",
        "subtract(n, 2)",
        "multiply(\"3\", 4)",
        "divide(n, 8)",
        "floor(divide(n, 8))",
        "round(f)",
        "pow(2, 10)",
        "incidr(ip, \"10.0.0.0/8\")",
        "incidr(ip, \"192.168.0.0/16,10.1.0.0/16\")",
        "is_ipv4(ip)",
        "is_ipv6(\"::1\")",
        "ip_to_int(\"1.2.3.4\")",
        "int_to_ip(16909060)",
        "if(n > 40, \"big\", \"small\")",
        "if(missing = null, \"null\")",
        "if(n = 1, \"one\")",
        "s ~= \"world\"",
        "s ~= \"(?i)world\"",
        "s contains \"WORLD\"",
        "arr contains \"b\"",
        "n in (1, 42)",
        "s in (\"*hello*\")",
        "missing in (null, \"\")",
        "ip not incidr \"10.0.0.0/8\"",
        "not (n = 42)",
        "n = \"42\"",
        "empty = null",
        "empty != null",
        "format_timestamp(\"%Y-%m-%d %H:%M\", time)",
        "to_epoch(time)",
        "to_epoch(parse_timestamp(\"%Y %b %d %H:%M:%S\", \"2023 Oct 21 03:42:05\"))",
        "to_epoch(to_timestamp(1697859725000, \"MILLIS\"))",
        "extract_time(time, \"HOUR\")",
        "timestamp_diff(time, parse_timestamp(\"%Y-%m-%d\", \"2023-10-20\"), \"HOUR\")",
        "XDM_CONST.OUTCOME_SUCCESS",
        "XDM_CONST.IP_PROTOCOL_TCP",
        "XDM_CONST.HTTP_RSP_CODE_OK",
        "to_json_string(obj) -> t",
        "\"a\\\"b\"",
        "\"\"\"c:\\\\d\"\"\"",
    ];
    let mut table = Map::new();
    for case in cases {
        table.insert(case.to_owned(), eval(case, &event));
    }
    insta::assert_json_snapshot!("function_semantics", table);
}

#[test]
fn diagnostics_name_every_error_with_a_caret() {
    let source = "[MODEL: dataset=x]\nalter\n    a = to_string(b)\n    c = 1,\n    d = nosuch(a),\n    e = regextract(a, \"(\")\n| filter ;\nalter f = ;\n";
    let rules = Rules::parse("broken.xif", source);
    let diagnostics = rules.check();
    insta::assert_snapshot!("diagnostics", rules.render(&diagnostics));
    let err = rules.compile(None, None).unwrap_err();
    assert!(matches!(err, CompileError::Invalid { .. }));
}

#[test]
fn grammar_shapes_from_shipped_rules_parse() {
    let source = r#"
/* banner */ [MODEL: model="Network", dataset="legacy_raw", content_id=***, version=***]
| filter `in` != null and _raw_log ! = null // comment after
| alter XDM.Network.Source.ipv4 = arrayindex(regextract(_raw_log, "src=(\S+)"), 0),
        tmp = if (status not in ("a", "b*"), 1, 0), xdm.source.port = to_integer(tmp)
[RULE: helper]
alter xdm.event.type = "from rule"
[MODEL:dataset = "other_raw"]
call helper | filter x incidr "10.0.0.0/8" or not y contains "z" ;
alter xdm.event.description = arraystring(arraymap(objects -> [], "@element" -> ["a.b"]), ",");
"#;
    let rules = Rules::parse("shapes.xif", source);
    let errors: Vec<_> = rules
        .check()
        .into_iter()
        .filter(xdm_modeling::Diagnostic::is_error)
        .collect();
    assert!(errors.is_empty(), "{}", rules.render(&errors));
    assert_eq!(rules.datasets(), ["legacy_raw", "other_raw"]);
    let model = rules.compile(Some("OTHER_RAW"), None).unwrap();
    let record = model
        .apply_value(&json!({"x": "10.2.3.4", "y": "abc", "objects": [{"a.b": "q"}, {"a.b": "r"}]}))
        .unwrap()
        .unwrap();
    assert_eq!(record["xdm.event.type"], "from rule");
    // Several pipelines each yield their own record; the first is returned by `apply`.
    let all = model
        .apply_all(
            json!({"x": "10.2.3.4", "y": "abc", "objects": [{"a.b": "q"}]})
                .as_object()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["xdm.event.description"], "q");
}

#[test]
fn schema_turns_objects_in_string_columns_into_json_text() {
    let rules = Rules::parse(
        "s.xif",
        "[MODEL: dataset=s_raw]\nalter v = to_string(details) | alter xdm.event.description = v, xdm.source.port = port;",
    );
    let schema = Schema::from_json_str(
        r#"{"s_raw": {"details": {"type": "string", "is_array": false}, "port": {"type": "int", "is_array": false}}}"#,
    )
    .unwrap();
    let model = rules.compile(None, Some(&schema)).unwrap();
    let record = model
        .apply_value(&json!({"details": {"a": 1}, "port": "22"}))
        .unwrap()
        .unwrap();
    assert_eq!(record["xdm.event.description"], "{\"a\":1}");
    assert_eq!(record["xdm.source.port"], 22);
    let err = model.apply_value(&json!({"port": {"no": 1}})).unwrap_err();
    assert_eq!(
        err,
        ApplyError::SchemaMismatch {
            field: "port".into(),
            expected: xdm_modeling::ColumnType::Int,
            found: "dict"
        }
    );
    assert!(matches!(
        model.apply_value(&json!([1])),
        Err(ApplyError::NotAnObject { found: "array" })
    ));
}

#[test]
fn bundled_bitsight_rule_passes_its_test_data() {
    let model = bitsight_model().unwrap();
    assert_eq!(model.dataset(), BITSIGHT_DATASET);
    let data = TestData::from_json_str(include_str!(
        "../../../fixtures/modeling-rules/bitsight/Bitsight_testdata.json"
    ))
    .unwrap();
    let families: std::collections::BTreeSet<&str> = data
        .data
        .iter()
        .filter_map(|e| e.event_data.get("risk_category").and_then(Value::as_str))
        .collect();
    assert_eq!(
        families.into_iter().collect::<Vec<_>>(),
        [
            "Compromised Systems",
            "Diligence",
            "Public Disclosures",
            "User Behavior"
        ]
    );
    for event in &data.data {
        let outcome = run_event(&model, event);
        assert!(matches!(outcome, Outcome::Passed { .. }), "{outcome:?}");
    }
    let record = model.apply(&data.data[1].event_data).unwrap().unwrap();
    insta::assert_json_snapshot!("bitsight_open_ports", record);
    let rules = Rules::parse("Bitsight.xif", xdm_modeling::BITSIGHT_RULES);
    assert!(rules.check().is_empty(), "{}", rules.render(&rules.check()));
}

#[test]
fn sdk_comparison_rules() {
    let model = Rules::parse("c.xif", "[MODEL: dataset=c]\nalter xdm.target.sent_bytes = to_number(n), xdm.source.port = to_number(n), xdm.event.id = id;")
        .compile(None, None)
        .unwrap();
    let data = TestData::from_json_str(
        r#"{"data": [
            {"dataset": "c", "event_data": {"n": 17, "id": "x"}, "expected_values": {"xdm.source.port": 17, "xdm.target.sent_bytes": 17.0, "xdm.event.id": "x", "xdm.network.rule": null, "xdm.event.type": ""}},
            {"dataset": "c", "event_data": {"n": 17, "id": "x"}, "expected_values": {"xdm.target.sent_bytes": 17, "xdm.event.id": "y"}},
            {"dataset": "c", "event_data": {"n": 17, "id": "x"}, "expected_values": {"xdm.source.port": "17"}}
        ]}"#,
    )
    .unwrap();
    assert_eq!(
        run_event(&model, &data.data[0]),
        Outcome::Passed { checked: 3 }
    );
    let Outcome::Failed(diffs) = run_event(&model, &data.data[1]) else {
        panic!("must fail")
    };
    assert_eq!(
        diffs.len(),
        1,
        "an int expectation accepts an integral float"
    );
    assert_eq!(
        diffs[0].describe(),
        "xdm.event.id: expected \"y\" (string), received \"x\" (string)"
    );
    assert!(
        matches!(run_event(&model, &data.data[2]), Outcome::Failed(_)),
        "no string/number coercion"
    );
}

mod laws {
    use super::*;
    use proptest::prelude::*;

    /// JSON text of nested objects and arrays over the keys `a`, `b` and `0`, keys
    /// possibly repeated (so the last value must win), with escapes and odd numbers.
    fn nested_json_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("-0".to_owned()),
            Just("1.50".to_owned()),
            any::<i64>().prop_map(|n| n.to_string()),
            "[ab\"\\\\]{0,3}".prop_map(|s| serde_json::to_string(&s).unwrap()),
            Just("\"\\u0041\"".to_owned()),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                (
                    proptest::collection::vec(inner.clone(), 0..4),
                    prop_oneof![Just(","), Just(", ")]
                )
                    .prop_map(|(items, comma)| format!("[{}]", items.join(comma))),
                proptest::collection::vec(
                    (
                        prop_oneof![Just("a"), Just("b"), Just("0"), Just("\\u0061")],
                        prop_oneof![Just(":"), Just(": ")],
                        inner
                    ),
                    0..4
                )
                .prop_map(|entries| {
                    let body: Vec<String> = entries
                        .iter()
                        .map(|(k, colon, v)| format!("\"{k}\"{colon}{v}"))
                        .collect();
                    format!("{{{}}}", body.join(","))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parser_never_panics(source in "\\PC{0,200}") {
            let rules = Rules::parse("p.xif", source);
            let _ = rules.check();
        }

        #[test]
        fn parser_never_panics_on_mangled_rules(cut in 0usize..2000, junk in "[\\[\\](),|;=\"`>-]{0,4}") {
            let base = xdm_modeling::BITSIGHT_RULES;
            let cut = (0..=cut.min(base.len())).rev().find(|&i| base.is_char_boundary(i)).unwrap_or(0);
            let source = format!("{}{junk}{}", &base[..cut], &base[cut..]);
            let rules = Rules::parse("m.xif", source);
            let _ = rules.check();
        }

        #[test]
        fn integers_round_trip_through_text(n in any::<i64>()) {
            let v = eval("to_integer(to_string(n))", &json!({"n": n}));
            prop_assert_eq!(v, json!(n));
        }

        #[test]
        fn negative_index_counts_from_the_end(items in proptest::collection::vec("[a-z]{1,5}", 1..8), back in 1usize..8) {
            // Drawn over 1..8 and folded into 1..=len (no rejections, which a long run
            // would exceed proptest's limit of).
            let back = (back - 1) % items.len() + 1;
            let expected = json!(items[items.len() - back]);
            let v = eval(&format!("arrayindex(arr, -{back})"), &json!({"arr": items}));
            prop_assert_eq!(v, expected);
        }

        /// The NDJSON fast path writes byte for byte what serialising the record of the
        /// JSON-value path writes, whatever the text holds (quotes, backslashes, control
        /// characters, escapes in the input): text copied without escaping is only text
        /// that needs none.
        #[test]
        fn ndjson_records_match_the_value_path(s in "(\\PC|[\\x00-\\x1f\"\\\\/])*", t in "[a-z\"]{0,6}", n in any::<i64>()) {
            let rules = Rules::parse("w.xif", r#"[MODEL: dataset=w]
                alter xdm.event.type = s,
                      xdm.event.id = concat(s, "-", t, n),
                      xdm.alert.description = obj,
                      xdm.event.tags = arraycreate(s, obj -> k, to_string(obj), lowercase(t)),
                      xdm.target.resource.name = arraycreate(s, t),
                      xdm.event.original_event_type = obj -> k,
                      xdm.target.port = to_string(n);"#);
            let model = rules.compile(None, None).unwrap();
            let event = json!({"s": s, "t": t, "n": n, "obj": {"k": s, t.clone(): [n, t]}});
            // serde_json writes `/` unescaped; a line that escapes it and others too.
            let escaped = serde_json::to_string(&event).unwrap().replace('/', "\\/");
            let expected = serde_json::to_vec(&model.apply_value(&event).unwrap().unwrap()).unwrap();
            for line in [serde_json::to_string(&event).unwrap(), escaped] {
                let mut out = Vec::new();
                prop_assert!(model.apply_json_line(&line, &mut out).unwrap());
                prop_assert_eq!(String::from_utf8(out).unwrap(), String::from_utf8(expected.clone()).unwrap());
            }
        }

        /// A column read only through fixed paths is prefetched while the line is read;
        /// the records are those of the value path, which follows each path in the whole
        /// value, whatever the column holds (repeated keys, arrays, scalars, escapes).
        #[test]
        fn prefetched_paths_match_the_value_path(d in nested_json_text(), repeat in proptest::option::of(nested_json_text())) {
            // Paths with longer ones below them, and paths read only as item texts.
            let sources = [
                r#"[MODEL: dataset=p]
                alter xdm.event.type = d -> a,
                      xdm.event.id = json_extract(d, "$.a.b"),
                      xdm.event.tags = json_extract_array(d, "$.b"),
                      xdm.event.description = json_extract_scalar(d, "$.b.0"),
                      xdm.event.original_event_type = to_json_string(json_extract_scalar_array(d, "$.a.0")),
                      xdm.alert.name = json_extract(d, "$.0.a"),
                      xdm.alert.description = json_extract(d, "$.a"),
                      xdm.network.protocol_layers = json_extract_array(d, "$.b.a"),
                      xdm.event.outcome_reason = to_json_string(json_extract_array(d, "$.0.b"));"#,
                r#"[MODEL: dataset=p]
                alter xdm.event.tags = json_extract_array(d, "$.b"),
                      xdm.event.outcome_reason = to_json_string(json_extract_array(d, "$.a.0")),
                      xdm.alert.description = arraystring(json_extract_array(d, "$.a"), "|");"#,
            ];
            let line = match &repeat {
                Some(r) => format!("{{\"d\":{d},\"x\":1,\"d\":{r}}}"),
                None => format!("{{\"x\":[1],\"d\":{d}}}"),
            };
            let event: Value = serde_json::from_str(&line).unwrap();
            for source in sources {
                let model = Rules::parse("p.xif", source).compile(None, None).unwrap();
                let expected = serde_json::to_string(&model.apply_value(&event).unwrap().unwrap()).unwrap();
                let mut out = Vec::new();
                prop_assert!(model.apply_json_line(&line, &mut out).unwrap());
                prop_assert_eq!(String::from_utf8(out).unwrap(), expected, "line {}", line);
            }
        }

        /// A column read only as `arraymap(column, "@element" -> path)` has its item objects
        /// read with just the keys those paths start with; the records are those of the
        /// value path, whatever the items hold (repeated and escaped keys, non-objects).
        #[test]
        fn projected_items_match_the_value_path(items in proptest::collection::vec(nested_json_text(), 0..4), comma in prop_oneof![Just(","), Just(" , ")], whole in nested_json_text()) {
            let sources = [
                r#"[MODEL: dataset=p]
                alter xdm.event.tags = arraymap(d, "@element" -> a),
                      xdm.alert.description = to_json_string(arraymap(d, concat(json_extract("@element", "$.b.0"), "/", "@element" -> a))),
                      xdm.event.id = arraystring(arraymap(d, "@element" -> 0), ",");"#,
                // Read whole elsewhere too: not projected.
                r#"[MODEL: dataset=p]
                alter xdm.event.tags = arraymap(d, "@element" -> a),
                      xdm.alert.description = to_json_string(d);"#,
            ];
            for line in [format!("{{\"d\":[{}]}}", items.join(comma)), format!("{{\"d\":{whole}}}")] {
                let event: Value = serde_json::from_str(&line).unwrap();
                for source in sources {
                    let model = Rules::parse("p.xif", source).compile(None, None).unwrap();
                    let expected = serde_json::to_string(&model.apply_value(&event).unwrap().unwrap()).unwrap();
                    let mut out = Vec::new();
                    prop_assert!(model.apply_json_line(&line, &mut out).unwrap());
                    prop_assert_eq!(String::from_utf8(out).unwrap(), expected, "line {}", line);
                }
            }
        }

        /// `arrayindex(regextract(..), n)` is fused into one search, and `arrayconcat` of
        /// `arraycreate`s builds one array: both give what the unfused forms give.
        #[test]
        fn fused_forms_match_unfused(s in "[ab:0-9]{0,8}", n in 0i64..3, c: bool) {
            let event = json!({"s": s, "c": c});
            for re in ["(a)?b", ":(\\d+)$", "a", "^(.+):\\d{1,5}$"] {
                let fused = eval(&format!("arrayindex(regextract(s, \"{re}\"), {n})"), &event);
                let unfused = eval(&format!("arrayindex(arrayreverse(arrayreverse(regextract(s, \"{re}\"))), {n})"), &event);
                prop_assert_eq!(fused, unfused, "{} {}", re, n);
            }
            let parts = "arraycreate(s, null), if(c, arraycreate(s), arraycreate()), s, null, arraycreate(arraycreate(s)), if(c, s)";
            let blocked = "coalesce(arraycreate(s, null)), coalesce(if(c, arraycreate(s), arraycreate())), s, null, coalesce(arraycreate(arraycreate(s))), coalesce(if(c, s))";
            let fused = eval(&format!("arrayconcat({parts})"), &event);
            prop_assert_eq!(fused, eval(&format!("arrayconcat({blocked})"), &event));
        }

        #[test]
        fn split_then_join_is_identity(parts in proptest::collection::vec("[a-z ]{0,6}", 1..6)) {
            let joined = parts.join(",");
            let v = eval("arraystring(split(s, \",\"), \",\")", &json!({"s": joined}));
            prop_assert_eq!(v, json!(joined));
        }
    }
}

#[test]
fn models_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<xdm_modeling::Model>();
    assert_send_sync::<Rules>();
}
