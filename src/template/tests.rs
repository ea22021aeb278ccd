//! The template engine against Go's and docker/cli's own outputs.

use super::*;
use serde_json::json;

fn render(src: &str, doc: &serde_json::Value) -> String {
    Template::parse(src)
        .unwrap_or_else(|e| panic!("{src:?} should parse: {e}"))
        .render(doc)
        .unwrap_or_else(|e| panic!("{src:?} should render: {e}"))
}

fn parse_error(src: &str) -> String {
    match Template::parse(src) {
        Ok(_) => panic!("{src:?} should not parse"),
        Err(e) => {
            assert!(e.parse, "{src:?}: a parse error, saw {e:?}");
            e.to_string()
        }
    }
}

fn info() -> serde_json::Value {
    json!({
        "Containers": 2,
        "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"]},
        "Labels": [],
        "Empty": {},
        "Nothing": null,
        "Name": "dockernet-host"
    })
}

#[test]
fn slices_print_as_go_prints_them() {
    assert_eq!(
        render("{{ .Plugins.Network }}", &info()),
        "[bridge host ipvlan macvlan null overlay]"
    );
    assert_eq!(render("{{.Labels}}", &info()), "[]");
}

#[test]
fn maps_print_sorted_as_go_prints_them() {
    let doc = json!({"M": {"b": 2, "a": "x", "c": [1, 2]}});
    assert_eq!(render("{{.M}}", &doc), "map[a:x b:2 c:[1 2]]");
    assert_eq!(render("{{.Empty}}", &info()), "map[]");
    // range over a map walks its keys sorted, as Go's does.
    assert_eq!(
        render("{{range $k, $v := .M}}{{$k}}={{$v}};{{end}}", &doc),
        "a=x;b=2;c=[1 2];"
    );
}

#[test]
fn missing_keys_and_nil_print_no_value() {
    assert_eq!(render("{{.Missing}}", &info()), "<no value>");
    assert_eq!(render("{{.Nothing}}", &info()), "<no value>");
    assert_eq!(render("{{.Missing.Deeper}}", &info()), "<no value>");
    assert_eq!(render("{{index .Plugins \"Log\"}}", &info()), "<no value>");
}

#[test]
fn missing_keys_can_be_errors_as_in_docker_inspect() {
    let t = Template::with_options(
        "{{.Missing}}",
        Options {
            missing_key_error: true,
            ..Options::default()
        },
    )
    .unwrap();
    let e = t.render(&info()).unwrap_err();
    assert!(!e.parse);
    assert_eq!(
        e.to_string(),
        "template parsing error: template: : executing \"\": map has no entry for key \"Missing\""
    );
}

#[test]
fn json_is_compact_in_the_document_order() {
    let doc = json!({"State": {"Status": "running", "Running": true, "Pid": 42}, "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "443/tcp": null}});
    assert_eq!(
        render("{{json .State}}", &doc),
        r#"{"Status":"running","Running":true,"Pid":42}"#
    );
    assert_eq!(
        render("{{json .Ports}}", &doc),
        r#"{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}],"443/tcp":null}"#
    );
    assert_eq!(render("{{json .Missing}}", &doc), "null");
    assert_eq!(render("{{json \"a<b\"}}", &doc), r#""a<b""#);
    assert_eq!(render("{{ . | json }}", &json!([1, "x"])), r#"[1,"x"]"#);
}

#[test]
fn json_renames_go_field_names() {
    let t = Template::with_options(
        "{{json .}}",
        Options {
            json_renames: &[("APIVersion", "ApiVersion")],
            ..Options::default()
        },
    )
    .unwrap();
    let doc = json!({"Version": "0.1.0", "APIVersion": "1.47"});
    assert_eq!(
        t.render(&doc).unwrap(),
        r#"{"Version":"0.1.0","ApiVersion":"1.47"}"#
    );
    let t = Template::parse("{{.APIVersion}}").unwrap();
    assert_eq!(t.render(&doc).unwrap(), "1.47");
}

#[test]
fn docker_functions() {
    let doc = json!({"Name": "/web1", "Args": ["-g", "daemon off;"], "Image": "nginx:alpine", "Words": "hello big world"});
    assert_eq!(render("{{join .Args \", \"}}", &doc), "-g, daemon off;");
    assert_eq!(render("{{split .Image \":\"}}", &doc), "[nginx alpine]");
    assert_eq!(render("{{index (split .Image \":\") 1}}", &doc), "alpine");
    assert_eq!(render("{{upper .Image}}", &doc), "NGINX:ALPINE");
    assert_eq!(render("{{lower \"ABC\"}}", &doc), "abc");
    assert_eq!(render("{{title .Words}}", &doc), "Hello Big World");
    assert_eq!(render("[{{pad .Name 2 1}}]", &doc), "[  /web1 ]");
    assert_eq!(render("[{{pad \"\" 2 1}}]", &doc), "[]");
    assert_eq!(render("{{truncate .Image 5}}", &doc), "nginx");
    assert_eq!(render("{{truncate .Image 50}}", &doc), "nginx:alpine");
    assert_eq!(render("{{len .Args}}", &doc), "2");
    assert_eq!(
        render("{{range .Args}}<{{.}}>{{end}}", &doc),
        "<-g><daemon off;>"
    );
    assert_eq!(render("{{println .Name}}", &doc), "/web1\n");
    assert_eq!(render("{{.Name | printf \"%q\"}}", &doc), "\"/web1\"");
}

#[test]
fn title_follows_go() {
    assert_eq!(funcs::title("hello_world foo-bar"), "Hello_world Foo-Bar");
    assert_eq!(funcs::title("élan vital"), "Élan Vital");
}

#[test]
fn function_type_errors_are_go_s() {
    let e = Template::parse("{{upper .N}}")
        .unwrap()
        .render(&json!({"N": 3}))
        .unwrap_err();
    assert!(
        e.message
            .ends_with("wrong type for value; expected string; got int"),
        "{e}"
    );
    let e = Template::parse("{{upper .N .N}}")
        .unwrap()
        .render(&json!({"N": "a"}))
        .unwrap_err();
    assert!(
        e.message
            .ends_with("wrong number of args for upper: want 1 got 2"),
        "{e}"
    );
}

#[test]
fn parse_errors_are_go_s() {
    assert_eq!(
        parse_error("{{.Name"),
        "template parsing error: template: :1: unclosed action"
    );
    assert_eq!(
        parse_error("{{range .Args}}x"),
        "template parsing error: template: :1: unexpected EOF"
    );
    assert_eq!(
        parse_error("a{{end}}b"),
        "template parsing error: template: :1: unexpected {{end}}"
    );
    assert_eq!(
        parse_error("{{end}}"),
        "template parsing error: template: :1: unexpected {{end}}"
    );
    assert_eq!(
        parse_error("{{if .A}}{{range .B}}{{end}}"),
        "template parsing error: template: :1: unexpected EOF"
    );
    assert_eq!(
        parse_error("a{{else}}b"),
        "template parsing error: template: :1: unexpected {{else}}"
    );
    assert_eq!(
        parse_error("{{foo .Name}}"),
        "template parsing error: template: :1: function \"foo\" not defined"
    );
    assert_eq!(
        parse_error("x\n{{$y}}"),
        "template parsing error: template: :2: undefined variable \"$y\""
    );
    // What is declared is in scope until the block ends.
    assert_eq!(
        render(
            "{{range $i, $a := .L}}{{$i}}{{$a}}{{end}}",
            &json!({"L": ["a"]})
        ),
        "0a"
    );
    assert_eq!(
        parse_error("{{range $i, $a := .L}}{{end}}{{$a}}"),
        "template parsing error: template: :1: undefined variable \"$a\""
    );
    assert!(Template::parse("{{if .A}}{{else if .B}}{{else}}{{end}}").is_ok());
    assert!(Template::parse("{{with $x := .A}}{{$x}}{{end}}").is_ok());
    assert!(Template::parse("{{$x := 1}}{{$x = 2}}{{$x}}").is_ok());
}

const PS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Names", "NAMES"),
    ("Image", "IMAGE"),
];

#[test]
fn table_aligns_columns_like_docker() {
    let rows = [
        json!({"ID": "3f4e8a2b1c9d", "Names": "web1", "Image": "nginx"}),
        json!({"ID": "a1b2c3d4e5f6", "Names": "a-much-longer-name", "Image": "busybox"}),
    ];
    let out = ListFormat::new("table {{.ID}}\\t{{.Names}}")
        .render(PS, &rows)
        .unwrap();
    assert_eq!(
        out,
        "CONTAINER ID   NAMES\n3f4e8a2b1c9d   web1\na1b2c3d4e5f6   a-much-longer-name\n"
    );
    // Short columns are at least 10 wide, padding included.
    let out = ListFormat::new("table {{.Image}}\t{{.Names}}")
        .render(PS, &rows)
        .unwrap();
    assert_eq!(
        out,
        "IMAGE     NAMES\nnginx     web1\nbusybox   a-much-longer-name\n"
    );
    // Header functions leave names alone; pad pads them too.
    let out = ListFormat::new("table {{upper .Names}}|{{pad .Image 1 0}}")
        .render(PS, &rows[..1])
        .unwrap();
    assert_eq!(out, "NAMES| IMAGE\nWEB1| nginx\n");
    // No rows: only the header.
    assert_eq!(
        ListFormat::new("table {{.ID}}").render(PS, &[]).unwrap(),
        "CONTAINER ID\n"
    );
}

#[test]
fn plain_list_formats_print_one_line_per_row() {
    let rows = [json!({"Name": "bridge"}), json!({"Name": "host"})];
    let f = ListFormat::new("{{.Name}}");
    assert!(!f.is_table());
    assert_eq!(f.render(&[], &rows).unwrap(), "bridge\nhost\n");
    assert_eq!(
        ListFormat::new("{{.Name}}\\n")
            .render(&[], &rows[..1])
            .unwrap(),
        "bridge\n\n"
    );
    assert_eq!(ListFormat::new("{{.Name}}").render(&[], &[]).unwrap(), "");
    let e = ListFormat::new("{{.Nope}}").render(&[], &rows).unwrap_err();
    assert!(
        e.to_string().contains("map has no entry for key \"Nope\""),
        "{e}"
    );
}

#[test]
fn render_each_is_inspect_s_output() {
    let t = Template::parse("{{.Name}}").unwrap();
    let (out, errors) = render_each(&t, &[json!({"Name": "/c1"}), json!({"Name": "/c2"})]);
    assert_eq!(out, "/c1\n/c2\n");
    assert!(errors.is_empty());
    let (out, _) = render_each(&t, &[]);
    assert_eq!(out, "\n");
}
