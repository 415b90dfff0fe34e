//! Message templates: text with `{placeholder}`s, checked when configured.

use zeroize::Zeroizing;

use crate::error::{Error, clip};

/// The longest template accepted, in bytes.
pub const MAX_TEMPLATE_LEN: usize = 2000;

/// A value a template can insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placeholder {
    /// The one-time code.
    Code,
    /// The one-time code with a space between characters (for speech).
    CodeSpaced,
    /// The masked phone number.
    Phone,
    /// Minutes until the code expires (rounded up).
    Minutes,
    /// The user ID.
    User,
    /// When, `YYYY-MM-DD HH:MM:SS UTC`.
    Time,
    /// How the user reported (`mobile app`, `phone call`).
    Channel,
    /// `blocked` or `not blocked`.
    Status,
}

impl Placeholder {
    const ALL: [(&'static str, Placeholder); 8] = [
        ("code", Placeholder::Code),
        ("code_spaced", Placeholder::CodeSpaced),
        ("phone", Placeholder::Phone),
        ("minutes", Placeholder::Minutes),
        ("user", Placeholder::User),
        ("time", Placeholder::Time),
        ("channel", Placeholder::Channel),
        ("status", Placeholder::Status),
    ];
}

/// Which values a template may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An SMS or voice message carrying a one-time code.
    Code,
    /// The e-mail to administrators about a fraud report.
    Fraud,
    /// The e-mail to a user whose account a fraud report blocked.
    Blocked,
}

impl Kind {
    fn offers(self, p: Placeholder) -> bool {
        use Placeholder as P;
        match self {
            Kind::Code => matches!(p, P::Code | P::CodeSpaced | P::Phone | P::Minutes),
            Kind::Fraud => matches!(p, P::User | P::Time | P::Channel | P::Status),
            Kind::Blocked => matches!(p, P::User | P::Time),
        }
    }

    fn offered(self) -> &'static str {
        match self {
            Kind::Code => "{code}, {code_spaced}, {phone}, {minutes}",
            Kind::Fraud => "{user}, {time}, {channel}, {status}",
            Kind::Blocked => "{user}, {time}",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Value(Placeholder),
}

/// A parsed template: literal text and placeholders. `{{` and `}}` stand
/// for literal braces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

const SYNTAX: &str = "text with {placeholder}s ({{ and }} for literal braces), at most 2000 bytes, no control characters but newlines";

impl Template {
    /// Parses `source` as the template setting `name` of `kind`.
    pub(crate) fn parse(name: &str, source: &str, kind: Kind) -> Result<Template, Error> {
        let invalid = || Error::InvalidSetting {
            name: name.to_owned(),
            value: clip(source, 64),
            expected: SYNTAX,
        };
        if source.len() > MAX_TEMPLATE_LEN
            || source
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(invalid());
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => return Err(invalid()),
                '{' => {
                    let mut key = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(k) if key.len() < 32 => key.push(k),
                            _ => return Err(invalid()),
                        }
                    }
                    let found = Placeholder::ALL
                        .iter()
                        .find(|(n, _)| *n == key)
                        .map(|(_, p)| *p)
                        .filter(|p| kind.offers(*p));
                    let Some(p) = found else {
                        return Err(Error::UnknownPlaceholder {
                            name: name.to_owned(),
                            placeholder: key,
                            offered: kind.offered(),
                        });
                    };
                    if !text.is_empty() {
                        parts.push(Part::Text(core::mem::take(&mut text)));
                    }
                    parts.push(Part::Value(p));
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template { parts })
    }

    /// Renders with `value` giving each placeholder's text. The result may
    /// hold a one-time code, so it is wiped when dropped.
    pub(crate) fn render(
        &self,
        value: &dyn Fn(Placeholder) -> Zeroizing<String>,
    ) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::new());
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Value(p) => out.push_str(&value(*p)),
            }
        }
        out
    }

    /// Whether the template uses `p`.
    pub(crate) fn uses(&self, p: Placeholder) -> bool {
        self.parts.contains(&Part::Value(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(t: &Template) -> String {
        t.render(&|p| Zeroizing::new(format!("<{p:?}>")))
            .to_string()
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(source in "\\PC{0,64}") {
            for kind in [Kind::Code, Kind::Fraud, Kind::Blocked] {
                let _ = Template::parse("t", &source, kind);
            }
        }

        #[test]
        fn text_without_braces_renders_as_itself(source in "[^{}\\p{Cc}]{0,200}") {
            let t = Template::parse("t", &source, Kind::Code).unwrap();
            proptest::prop_assert_eq!(render(&t), source);
        }
    }

    #[test]
    fn placeholders_braces_and_refusals() {
        let t =
            Template::parse("t", "Code {code}, {{literal}} in {minutes} min", Kind::Code).unwrap();
        assert_eq!(render(&t), "Code <Code>, {literal} in <Minutes> min");
        assert!(t.uses(Placeholder::Code) && !t.uses(Placeholder::Phone));
        assert!(matches!(
            Template::parse("t", "{user}", Kind::Code),
            Err(Error::UnknownPlaceholder { placeholder, .. }) if placeholder == "user"
        ));
        assert!(matches!(
            Template::parse("t", "{code}", Kind::Fraud),
            Err(Error::UnknownPlaceholder { .. })
        ));
        for bad in ["{code", "code}", "{", "a\u{7}b", &"x".repeat(2001)] {
            assert!(
                matches!(
                    Template::parse("t", bad, Kind::Code),
                    Err(Error::InvalidSetting { .. })
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            render(&Template::parse("t", "", Kind::Blocked).unwrap()),
            ""
        );
    }
}
