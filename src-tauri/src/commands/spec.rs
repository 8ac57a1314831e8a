//! What the UI is told of each command ([`CommandSpec`]), and the TypeScript made from it:
//! `ui/src/commands.ts`, one typed call per command, its types imported from
//! `ui/src/bindings/` (ts-rs). The output is as Prettier writes it (2-space indent, single
//! quotes, no semicolons, lines within 100 columns).

use std::any::TypeId;
use std::collections::BTreeMap;

use ts_rs::{Dependency, TS, TypeVisitor};

/// A TypeScript type: its text and the declarations it imports (name → file under
/// `bindings/`, without `.ts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsType {
    pub text: String,
    pub imports: BTreeMap<String, String>,
}

/// The TypeScript type of `T`; `()` is `void`.
pub fn ts_type<T: TS + 'static>() -> TsType {
    struct Imports<'a>(&'a mut BTreeMap<String, String>);
    impl TypeVisitor for Imports<'_> {
        fn visit<U: TS + 'static + ?Sized>(&mut self) {
            match Dependency::from_ty::<U>() {
                Some(dep) => {
                    let path = dep.output_path.with_extension("");
                    self.0
                        .insert(dep.ts_name, path.to_string_lossy().into_owned());
                }
                // A wrapper (`Option`, `Vec`…): what it wraps.
                None => U::visit_generics(self),
            }
        }
    }
    let mut imports = BTreeMap::new();
    Imports(&mut imports).visit::<T>();
    let text = if TypeId::of::<T>() == TypeId::of::<()>() {
        "void".to_string()
    } else {
        T::name()
    };
    TsType { text, imports }
}

/// One command as the UI calls it.
#[derive(Debug, Clone)]
pub struct CommandSpec {
    /// The command's name (the Rust function's).
    pub name: &'static str,
    /// Its doc comment, line by line.
    pub docs: &'static [&'static str],
    /// The arguments the UI sends, by their Rust names.
    pub args: Vec<(&'static str, TsType)>,
    /// Whether the UI sends raw bytes (a photo) instead of named arguments.
    pub raw_bytes: bool,
    /// What the command answers.
    pub returns: TsType,
}

/// `snake_case` as `camelCase`: the UI's name of a command, and the key Tauri reads an
/// argument from.
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A name usable as a TypeScript parameter.
fn param(key: &str) -> String {
    const RESERVED: &[&str] = &[
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "new",
        "null",
        "return",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
    ];
    if RESERVED.contains(&key) {
        format!("{key}_")
    } else {
        key.to_string()
    }
}

const WIDTH: usize = 100;

/// The generated `ui/src/commands.ts` for `commands`.
pub fn typescript(commands: &[CommandSpec]) -> String {
    let mut imports = BTreeMap::new();
    for c in commands {
        imports.extend(c.returns.imports.clone());
        for (_, t) in &c.args {
            imports.extend(t.imports.clone());
        }
    }
    let mut out = String::from(
        "// Generated from the app's commands (src-tauri/src/commands/) by\n\
         // `CUNJI_WRITE_BINDINGS=1 cargo test -p cunji-app --test bindings`: do not edit.\n",
    );
    for (name, path) in &imports {
        out.push_str(&format!(
            "import type {{ {name} }} from './bindings/{path}'\n"
        ));
    }
    out.push_str(
        "\n/** A command's arguments: named values, or raw bytes (a photo crosses as bytes, not as a\n \
         *  JSON array of numbers four times its size). */\n\
         export type InvokeArgs = Record<string, unknown> | Uint8Array\n\n\
         /** Sends one command and answers what it answered. */\n\
         export type Call = <T>(cmd: string, args?: InvokeArgs) => Promise<T>\n\n\
         /** Every command of the app, typed, sent through `call`. */\n\
         export function commands(call: Call) {\n  return {\n",
    );
    for c in commands {
        let docs: Vec<&str> = c.docs.iter().map(|d| d.trim()).collect();
        match docs.as_slice() {
            [] => {}
            [one] => out.push_str(&format!("    /** {one} */\n")),
            many => {
                out.push_str("    /**\n");
                for line in many {
                    if line.is_empty() {
                        out.push_str("     *\n");
                    } else {
                        out.push_str(&format!("     * {line}\n"));
                    }
                }
                out.push_str("     */\n");
            }
        }
        let (params, sent) = if c.raw_bytes {
            ("bytes: Uint8Array".to_string(), ", bytes".to_string())
        } else {
            let params: Vec<String> = c
                .args
                .iter()
                .map(|(n, t)| format!("{}: {}", param(&camel(n)), t.text))
                .collect();
            let keys: Vec<String> = c
                .args
                .iter()
                .map(|(n, _)| {
                    let (key, p) = (camel(n), param(&camel(n)));
                    if key == p { key } else { format!("{key}: {p}") }
                })
                .collect();
            let sent = if keys.is_empty() {
                String::new()
            } else {
                format!(", {{ {} }}", keys.join(", "))
            };
            (params.join(", "), sent)
        };
        let head = format!("    {}: ({params}) =>", camel(c.name));
        let body = format!("call<{}>('{}'{sent}),", c.returns.text, c.name);
        if head.len() + 1 + body.len() <= WIDTH {
            out.push_str(&format!("{head} {body}\n"));
        } else {
            out.push_str(&format!("{head}\n      {body}\n"));
        }
    }
    out.push_str("  }\n}\n");
    out
}
