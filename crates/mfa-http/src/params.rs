//! Request parameters as privacyIDEA reads them: the query string and a
//! form-encoded or JSON body, merged (the body wins). Unknown parameters
//! are ignored.

use zeroize::Zeroizing;

/// Why a request's parameters were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamError {
    /// The JSON body is not a JSON object.
    MalformedJson,
    /// More than the configured number of parameters.
    TooMany,
    /// A value longer than the configured limit (the name is the
    /// parameter's, never its value).
    TooLong,
}

/// The parameters of one request. Values are wiped when dropped: `pass`
/// is among them.
#[derive(Default)]
pub(crate) struct Params {
    pairs: Vec<(String, Zeroizing<String>)>,
}

impl Params {
    /// Parses the query string and the body.
    pub(crate) fn parse(
        query: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
        max_params: usize,
        max_len: usize,
    ) -> Result<Params, ParamError> {
        let mut p = Params::default();
        if let Some(q) = query {
            p.add_form(q.as_bytes(), max_params, max_len)?;
        }
        let is_json = content_type.is_some_and(|c| {
            let c = c.split(';').next().unwrap_or_default().trim();
            c.eq_ignore_ascii_case("application/json") || c.to_ascii_lowercase().ends_with("+json")
        });
        if is_json {
            if !body.iter().all(u8::is_ascii_whitespace) {
                p.add_json(body, max_params, max_len)?;
            }
        } else {
            p.add_form(body, max_params, max_len)?;
        }
        Ok(p)
    }

    fn push(
        &mut self,
        k: String,
        v: Zeroizing<String>,
        max_params: usize,
        max_len: usize,
    ) -> Result<(), ParamError> {
        if self.pairs.len() >= max_params {
            return Err(ParamError::TooMany);
        }
        if v.len() > max_len || k.len() > max_len {
            return Err(ParamError::TooLong);
        }
        // A later value (the body) replaces an earlier one (the query).
        self.pairs.retain(|(name, _)| name != &k);
        self.pairs.push((k, v));
        Ok(())
    }

    fn add_form(
        &mut self,
        bytes: &[u8],
        max_params: usize,
        max_len: usize,
    ) -> Result<(), ParamError> {
        for (k, v) in form_urlencoded::parse(bytes) {
            let v = Zeroizing::new(v.into_owned());
            self.push(k.into_owned(), v, max_params, max_len)?;
        }
        Ok(())
    }

    fn add_json(
        &mut self,
        bytes: &[u8],
        max_params: usize,
        max_len: usize,
    ) -> Result<(), ParamError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|_| ParamError::MalformedJson)?;
        let serde_json::Value::Object(map) = value else {
            return Err(ParamError::MalformedJson);
        };
        for (k, v) in map {
            let v = match v {
                serde_json::Value::String(s) => Zeroizing::new(s),
                serde_json::Value::Number(n) => Zeroizing::new(n.to_string()),
                serde_json::Value::Bool(b) => Zeroizing::new(b.to_string()),
                // Null, arrays and objects carry nothing we read.
                _ => continue,
            };
            self.push(k, v, max_params, max_len)?;
        }
        Ok(())
    }

    /// The value of `name`, if given.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, if given and not empty.
    pub(crate) fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn query_form_and_json_merge_with_the_body_winning() {
        let p = Params::parse(Some("user=a&x=1"), None, b"user=b&pass=123", 8, 64).unwrap();
        assert_eq!(p.get("user"), Some("b"));
        assert_eq!(p.get("pass"), Some("123"));
        let p = Params::parse(
            None,
            Some("application/json; charset=utf-8"),
            br#"{"user":"c","pass":123456,"n":null,"o":{}}"#,
            8,
            64,
        )
        .unwrap();
        assert_eq!(p.get("user"), Some("c"));
        assert_eq!(p.get("pass"), Some("123456"));
        assert_eq!(p.get("n"), None);
    }

    #[test]
    fn malformed_and_oversized_input_is_refused() {
        let json = Some("application/json");
        assert!(matches!(
            Params::parse(None, json, b"{", 8, 64),
            Err(ParamError::MalformedJson)
        ));
        assert!(matches!(
            Params::parse(None, json, b"[1]", 8, 64),
            Err(ParamError::MalformedJson)
        ));
        assert!(matches!(
            Params::parse(None, None, b"a=1&b=2&c=3", 2, 64),
            Err(ParamError::TooMany)
        ));
        assert!(matches!(
            Params::parse(None, None, b"a=12345", 8, 4),
            Err(ParamError::TooLong)
        ));
        assert!(Params::parse(None, None, b"\xff\xfe=%zz", 8, 64).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_or_refuse_within_the_limits(
            query in proptest::option::of(".{0,64}"),
            json in proptest::bool::ANY,
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..256),
        ) {
            let ct = json.then_some("application/json");
            if let Ok(p) = Params::parse(query.as_deref(), ct, &body, 8, 16) {
                proptest::prop_assert!(p.pairs.len() <= 8);
                proptest::prop_assert!(p.pairs.iter().all(|(k, v)| k.len() <= 16 && v.len() <= 16));
            }
        }
    }
}
