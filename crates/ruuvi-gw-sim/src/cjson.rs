//! `cJSON_Print` output: tab indentation, `"key":<TAB>value`, arrays on one line with `, `.
//! `/ruuvi.json`, `/info.json` and `/validate_url` answers are printed this way.

use serde_json::Value;

pub fn print(value: &Value) -> String {
    let mut out = String::new();
    write(value, 0, &mut out);
    out
}

fn write(value: &Value, depth: usize, out: &mut String) {
    match value {
        Value::Object(map) => {
            out.push_str("{\n");
            let n = map.len();
            for (i, (k, v)) in map.iter().enumerate() {
                out.extend(std::iter::repeat_n('\t', depth + 1));
                out.push_str(&serde_json::to_string(k).expect("strings serialise"));
                out.push_str(":\t");
                write(v, depth + 1, out);
                if i + 1 < n {
                    out.push(',');
                }
                out.push('\n');
            }
            out.extend(std::iter::repeat_n('\t', depth));
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(v, depth, out);
            }
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).expect("values serialise")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn layout() {
        let v = json!({"a": 1, "b": {"c": true}, "d": ["x", "y"], "e": {}, "f": []});
        assert_eq!(print(&v), "{\n\t\"a\":\t1,\n\t\"b\":\t{\n\t\t\"c\":\ttrue\n\t},\n\t\"d\":\t[\"x\", \"y\"],\n\t\"e\":\t{\n\t},\n\t\"f\":\t[]\n}");
    }
}
