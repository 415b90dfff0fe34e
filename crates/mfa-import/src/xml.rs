//! A small, bounded element tree built from quick-xml events, one subtree
//! (a KeyPackage or a container header element) at a time.

use std::io::{self, BufRead, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use zeroize::Zeroize;

use crate::{Error, LimitKind, Limits};

/// A `BufRead` wrapper that counts lines and bytes consumed and enforces
/// the document size limit.
pub(crate) struct Counting<R> {
    inner: R,
    pub(crate) lines: u64,
    pub(crate) bytes: u64,
    max_bytes: u64,
    pub(crate) over_limit: bool,
    /// Bytes consumed by the XML event being read: quick-xml buffers a
    /// whole tag, text node or comment before handing it over, so this is
    /// what bounds memory per event.
    event_bytes: u64,
    max_event_bytes: u64,
    pub(crate) event_over_limit: bool,
}

impl<R: BufRead> Counting<R> {
    pub(crate) fn new(inner: R, limits: &Limits) -> Self {
        Counting {
            inner,
            lines: 1,
            bytes: 0,
            max_bytes: limits.max_document_bytes,
            over_limit: false,
            event_bytes: 0,
            max_event_bytes: (limits.max_value_bytes as u64)
                .saturating_mul(2)
                .saturating_add(4096),
            event_over_limit: false,
        }
    }

    /// Called before each event is read.
    pub(crate) fn start_event(&mut self) {
        self.event_bytes = 0;
    }
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            if let (Some(dst), Some(src)) = (out.get_mut(..n), buf.get(..n)) {
                dst.copy_from_slice(src);
            }
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.bytes > self.max_bytes {
            self.over_limit = true;
            return Err(io::Error::other("document size limit exceeded"));
        }
        if self.event_bytes > self.max_event_bytes {
            self.event_over_limit = true;
            return Err(io::Error::other("value size limit exceeded"));
        }
        // Hand out no more than the event may still take (plus one byte), so
        // that even an in-memory input is checked before quick-xml copies a
        // whole oversized event into its buffer.
        let allowance = usize::try_from(self.max_event_bytes - self.event_bytes)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        let buf = self.inner.fill_buf()?;
        Ok(buf.get(..allowance).unwrap_or(buf))
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf()
            && let Some(consumed) = buf.get(..amt)
        {
            self.lines += consumed.iter().filter(|&&b| b == b'\n').count() as u64;
        }
        self.bytes += amt as u64;
        self.event_bytes += amt as u64;
        self.inner.consume(amt);
    }
}

/// One element: local name (namespace prefix dropped), attributes by local
/// name, the concatenated direct text (trimmed on use), children.
#[derive(Default)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) text: String,
    pub(crate) children: Vec<Element>,
    pub(crate) line: u64,
}

impl Drop for Element {
    fn drop(&mut self) {
        // Text may hold a plaintext secret (PlainValue).
        self.text.zeroize();
    }
}

impl Element {
    /// The first child with one of the given local names (earlier names win).
    pub(crate) fn find(&self, names: &[&str]) -> Option<&Element> {
        names
            .iter()
            .find_map(|n| self.children.iter().find(|c| c.name == *n))
    }

    /// Follows a path of local names, first match at each step.
    pub(crate) fn path(&self, path: &[&str]) -> Option<&Element> {
        let mut cur = self;
        for p in path {
            cur = cur.children.iter().find(|c| c.name == *p)?;
        }
        Some(cur)
    }

    /// All children with the given local name.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text, `None` when empty (as python-pskc's `findtext`).
    pub(crate) fn text(&self) -> Option<&str> {
        let t = self.text.trim();
        (!t.is_empty()).then_some(t)
    }

    /// The trimmed text of the first child with one of the names.
    pub(crate) fn child_text(&self, names: &[&str]) -> Option<&str> {
        self.find(names).and_then(Element::text)
    }

    /// An attribute by local name (non-empty).
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The first of several attribute spellings that is present.
    pub(crate) fn attr_any(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.attr(n))
    }
}

/// Local part of a possibly prefixed name.
pub(crate) fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

pub(crate) fn xml_error(
    e: &quick_xml::Error,
    counting: &Counting<impl BufRead>,
    limits: &Limits,
) -> Error {
    if counting.over_limit {
        return Error::LimitExceeded {
            kind: LimitKind::DocumentBytes,
            max: limits.max_document_bytes,
        };
    }
    if counting.event_over_limit {
        return Error::LimitExceeded {
            kind: LimitKind::ValueBytes,
            max: limits.max_value_bytes as u64,
        };
    }
    match e {
        quick_xml::Error::Io(io) => Error::Io(io.kind()),
        other => Error::XmlSyntax {
            detail: other.to_string(),
        },
    }
}

/// Reads attributes of a start tag into an element shell.
pub(crate) fn start_element(
    start: &BytesStart<'_>,
    line: u64,
    limits: &Limits,
) -> Result<Element, Error> {
    let name = local(start.name().as_ref()).to_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| Error::XmlSyntax {
            detail: e.to_string(),
        })?;
        let key = attr.key.as_ref();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| Error::XmlSyntax {
                detail: e.to_string(),
            })?;
        if value.len() > limits.max_value_bytes {
            return Err(Error::LimitExceeded {
                kind: LimitKind::ValueBytes,
                max: limits.max_value_bytes as u64,
            });
        }
        attrs.push((local(key).to_owned(), value.into_owned()));
    }
    Ok(Element {
        name,
        attrs,
        text: String::new(),
        children: Vec::new(),
        line,
    })
}

fn push_text(el: &mut Element, s: &str, limits: &Limits) -> Result<(), Error> {
    if el.text.len() + s.len() > limits.max_value_bytes {
        return Err(Error::LimitExceeded {
            kind: LimitKind::ValueBytes,
            max: limits.max_value_bytes as u64,
        });
    }
    el.text.push_str(s);
    Ok(())
}

/// Resolves a general entity reference: the five predefined ones and
/// character references; anything else is an error (no DTD is allowed, so
/// no other entity can be declared).
pub(crate) fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> Result<String, Error> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c.to_string()),
            _ => Err(Error::XmlSyntax {
                detail: format!("invalid character reference &{};", r.xml10_content()),
            }),
        };
    }
    let name = r.xml10_content();
    Ok(match name.as_ref() {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "apos" => "'",
        "quot" => "\"",
        other => {
            return Err(Error::UnknownEntity {
                name: other.to_owned(),
            });
        }
    }
    .to_owned())
}

/// Reads the rest of an element whose start tag was just read (at `depth`,
/// 1 for a child of the root) into `root`, enforcing limits.
pub(crate) fn read_subtree<R: BufRead>(
    reader: &mut Reader<Counting<R>>,
    buf: &mut Vec<u8>,
    root: Element,
    depth: usize,
    limits: &Limits,
) -> Result<Element, Error> {
    let mut stack: Vec<Element> = vec![root];
    let mut elements = 1usize;
    loop {
        buf.clear();
        reader.get_mut().start_event();
        let ev = reader.read_event_into(buf);
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => return Err(xml_error(&e, reader.get_ref(), limits)),
        };
        match ev {
            Event::Start(s) => {
                if depth + stack.len() > limits.max_depth {
                    return Err(Error::LimitExceeded {
                        kind: LimitKind::Depth,
                        max: limits.max_depth as u64,
                    });
                }
                elements += 1;
                if elements > limits.max_package_elements {
                    return Err(Error::LimitExceeded {
                        kind: LimitKind::PackageElements,
                        max: limits.max_package_elements as u64,
                    });
                }
                let line = reader.get_ref().lines;
                stack.push(start_element(&s, line, limits)?);
            }
            Event::Empty(s) => {
                elements += 1;
                if elements > limits.max_package_elements {
                    return Err(Error::LimitExceeded {
                        kind: LimitKind::PackageElements,
                        max: limits.max_package_elements as u64,
                    });
                }
                let line = reader.get_ref().lines;
                let el = start_element(&s, line, limits)?;
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(el);
                }
            }
            Event::End(_) => {
                // quick-xml checks that end names match.
                let Some(done) = stack.pop() else {
                    return Err(Error::XmlSyntax {
                        detail: "unbalanced end tag".to_owned(),
                    });
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    push_text(top, &t.xml10_content(), limits)?;
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    push_text(top, &t.xml10_content(), limits)?;
                }
            }
            Event::GeneralRef(r) => {
                let s = resolve_ref(&r)?;
                if let Some(top) = stack.last_mut() {
                    push_text(top, &s, limits)?;
                }
            }
            Event::DocType(_) => return Err(Error::DoctypeForbidden),
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
            Event::Eof => {
                return Err(Error::Truncated {
                    root: stack.first().map(|e| e.name.clone()).unwrap_or_default(),
                });
            }
        }
    }
}
