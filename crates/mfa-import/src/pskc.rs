//! The streaming PSKC (RFC 6030) reader.

use std::collections::VecDeque;
use std::fmt;
use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::Event;
use zeroize::Zeroizing;

use crate::crypto::{self, Cipher, MacAlgorithm};
use crate::xml::{self, Counting, Element};
use crate::{Error, ImportedToken, LimitKind, Limits, Location, Rejection, Warning};

/// Raw key bytes from a PSKC file, before the OATH rules are applied (they
/// may be shorter than [`mfa_oath::Secret`] accepts, e.g. a PIN).
/// Wiped on drop; `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct RawSecret(Zeroizing<Vec<u8>>);

impl RawSecret {
    /// The raw bytes. Named loudly so that every use is easy to audit.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for RawSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawSecret([REDACTED])")
    }
}

/// A date from a PSKC file: the text as written and, when it could be read,
/// the time it names (dates without a zone are taken as UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PskcDate {
    /// The text as written.
    pub text: String,
    /// Seconds since the Unix epoch (negative before 1970).
    pub unix: i64,
}

/// ChallengeFormat of a challenge/response key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChallengeFormat {
    /// `Encoding` (or the older `Format`).
    pub encoding: Option<String>,
    /// `Min` length.
    pub min: Option<u64>,
    /// `Max` length.
    pub max: Option<u64>,
    /// `CheckDigits`.
    pub check_digits: Option<bool>,
}

/// The PINPolicy of a key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinPolicy {
    /// `PINKeyId`: the Id of the key holding the PIN.
    pub pin_key_id: Option<String>,
    /// `PINUsageMode` (Local, Prepend, Append, Algorithmic).
    pub usage: Option<String>,
    /// `MaxFailedAttempts`.
    pub max_failed_attempts: Option<u64>,
    /// `MinLength`.
    pub min_length: Option<u64>,
    /// `MaxLength`.
    pub max_length: Option<u64>,
    /// `PINEncoding`.
    pub encoding: Option<String>,
}

/// The Policy of a key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// `StartDate` (Policy, or the pre-RFC Key child).
    pub start_date: Option<PskcDate>,
    /// `ExpiryDate` (Policy, or the pre-RFC Key child).
    pub expiry_date: Option<PskcDate>,
    /// `NumberOfTransactions`.
    pub number_of_transactions: Option<u64>,
    /// `KeyUsage` values (e.g. `OTP`, `CR`).
    pub key_usage: Vec<String>,
    /// `PINPolicy`.
    pub pin_policy: Option<PinPolicy>,
    /// True if the policy holds elements or attributes this reader does not
    /// know (RFC 6030 §5: such a key must not be used).
    pub unknown_elements: bool,
}

/// One key from a PSKC file, decrypted and decoded but not yet checked
/// against the OATH rules ([`PskcKey::to_token`] does that).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PskcKey {
    /// Where the key is.
    pub location: Option<Location>,
    /// DeviceInfo/Manufacturer.
    pub manufacturer: Option<String>,
    /// DeviceInfo/SerialNo.
    pub serial: Option<String>,
    /// DeviceInfo/Model.
    pub model: Option<String>,
    /// DeviceInfo/IssueNo.
    pub issue_no: Option<String>,
    /// DeviceInfo/DeviceBinding.
    pub device_binding: Option<String>,
    /// DeviceInfo/StartDate.
    pub device_start_date: Option<PskcDate>,
    /// DeviceInfo/ExpiryDate (or the pre-RFC `Expiry`).
    pub device_expiry_date: Option<PskcDate>,
    /// DeviceInfo/UserId.
    pub device_user_id: Option<String>,
    /// CryptoModuleInfo/Id.
    pub crypto_module: Option<String>,
    /// Key `Id` (or `KeyId`, `SecretId`).
    pub id: Option<String>,
    /// Key `Algorithm` URI (or `KeyAlgorithm`, `SecretAlgorithm`).
    pub algorithm: Option<String>,
    /// Issuer.
    pub issuer: Option<String>,
    /// KeyProfileId.
    pub key_profile: Option<String>,
    /// KeyReference.
    pub key_reference: Option<String>,
    /// FriendlyName.
    pub friendly_name: Option<String>,
    /// Key UserId.
    pub key_user_id: Option<String>,
    /// AlgorithmParameters/Suite (e.g. `HMAC-SHA256`).
    pub suite: Option<String>,
    /// ChallengeFormat.
    pub challenge: Option<ChallengeFormat>,
    /// ResponseFormat `Encoding`.
    pub response_encoding: Option<String>,
    /// ResponseFormat `Length`.
    pub response_length: Option<u64>,
    /// ResponseFormat `CheckDigits`.
    pub response_check: Option<bool>,
    /// Data/Secret.
    pub secret: Option<RawSecret>,
    /// Data/Counter.
    pub counter: Option<u64>,
    /// Data/Time.
    pub time: Option<i64>,
    /// Data/TimeInterval (seconds).
    pub time_interval: Option<u64>,
    /// Data/TimeDrift (intervals; negative: the device is slow).
    pub time_drift: Option<i64>,
    /// Policy.
    pub policy: Policy,
}

impl PskcKey {
    /// The user id: the key's, else the device's.
    pub fn user_id(&self) -> Option<&str> {
        self.key_user_id
            .as_deref()
            .or(self.device_user_id.as_deref())
    }

    /// Checks the key against the OATH rules and builds a token.
    ///
    /// # Errors
    /// A [`Rejection`] at the key's location: unsupported algorithm
    /// (OCRA, PIN, vendor), missing or too short secret, digits outside
    /// 6..=9, non-decimal response, a policy that forbids OTP use.
    pub fn to_token(&self) -> Result<ImportedToken, Rejection> {
        crate::token::from_pskc(self)
    }
}

/// Options for reading a PSKC file: the decryption key or passphrase and
/// the safety limits.
///
/// ```
/// use mfa_import::{Limits, PskcOptions};
/// let mut limits = Limits::default();
/// limits.max_packages = 10;
/// let opts = PskcOptions::new().passphrase("qwerty").limits(limits);
/// # let _ = opts;
/// ```
#[derive(Clone, Default)]
pub struct PskcOptions {
    allow_unauthenticated: bool,
    key: Option<Zeroizing<Vec<u8>>>,
    iv: Option<Vec<u8>>,
    passphrase: Option<Zeroizing<Vec<u8>>>,
    limits: Limits,
}

impl fmt::Debug for PskcOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PskcOptions")
            .field("key", &self.key.as_ref().map(|_| "[REDACTED]"))
            .field(
                "passphrase",
                &self.passphrase.as_ref().map(|_| "[REDACTED]"),
            )
            .field("allow_unauthenticated", &self.allow_unauthenticated)
            .field("limits", &self.limits)
            .finish()
    }
}

impl PskcOptions {
    /// No key, default limits.
    pub fn new() -> PskcOptions {
        PskcOptions::default()
    }

    /// The pre-shared key (the file's `KeyName` names it).
    #[must_use]
    pub fn key(mut self, key: &[u8]) -> PskcOptions {
        self.key = Some(Zeroizing::new(key.to_vec()));
        self
    }

    /// A passphrase from which the key is derived with the file's PBKDF2
    /// parameters.
    #[must_use]
    pub fn passphrase(mut self, passphrase: &str) -> PskcOptions {
        self.passphrase = Some(Zeroizing::new(passphrase.as_bytes().to_vec()));
        self
    }

    /// An IV agreed out of band, for files whose CBC values do not start
    /// with their IV (a global `EncryptionKey/IV` in the file wins).
    #[must_use]
    pub fn iv(mut self, iv: &[u8]) -> PskcOptions {
        self.iv = Some(iv.to_vec());
        self
    }

    /// Accept CBC-encrypted values that have no ValueMAC (some pre-RFC
    /// files). Off by default: without a MAC a wrong key yields a wrong
    /// value about once in 256 tries instead of an error.
    #[must_use]
    pub fn allow_unauthenticated(mut self, allow: bool) -> PskcOptions {
        self.allow_unauthenticated = allow;
        self
    }

    /// Safety limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> PskcOptions {
        self.limits = limits;
        self
    }
}

#[derive(Default)]
struct Derivation {
    algorithm: Option<String>,
    salt: Option<Vec<u8>>,
    iterations: Option<u64>,
    key_length: Option<u64>,
    prf: Option<String>,
}

#[derive(Default)]
struct Container {
    root: String,
    id: Option<String>,
    version: Option<String>,
    enc_algorithm: Option<String>,
    key_names: Vec<String>,
    iv: Option<Vec<u8>>,
    derivation: Derivation,
    mac_algorithm: Option<String>,
    mac_key: Option<(Option<String>, Vec<u8>)>,
    encryption_seen: bool,
    mac_seen: bool,
}

/// An encrypted value as found in the file.
struct EncValue {
    algorithm: Option<String>,
    cipher: Vec<u8>,
    mac: Option<Vec<u8>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Prolog,
    Body,
    Done,
}

/// A streaming PSKC reader: an iterator that yields one key (or one
/// per-key error) at a time, so memory does not grow with the file.
///
/// Reads RFC 6030 files and the older draft and vendor dialects that
/// python-pskc reads (namespaces are ignored; `KeyContainer` or
/// `SecretContainer`; `KeyPackage` or `Device`; `Key` or `Secret`; `Id`,
/// `KeyId`, `SecretId`; `Data Name="SECRET"` with `Value`/`ValueDigest`).
/// Encrypted values are checked against their ValueMAC before they are
/// decrypted or used. A fatal problem (malformed XML, truncation, a limit,
/// wrong root or version, DOCTYPE) is yielded once and ends the iteration.
///
/// ```
/// use mfa_import::{PskcOptions, PskcReader};
/// let xml = br#"<?xml version="1.0"?>
/// <KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
///   <KeyPackage>
///     <DeviceInfo><SerialNo>987654321</SerialNo></DeviceInfo>
///     <Key Id="1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">
///       <Data>
///         <Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>
///         <TimeInterval><PlainValue>60</PlainValue></TimeInterval>
///       </Data>
///     </Key>
///   </KeyPackage>
/// </KeyContainer>"#;
/// let mut reader = PskcReader::new(&xml[..], PskcOptions::new());
/// let key = reader.next().unwrap()?;
/// assert_eq!(key.serial.as_deref(), Some("987654321"));
/// assert_eq!(key.time_interval, Some(60));
/// let token = key.to_token()?;
/// assert_eq!(token.secret.expose_secret(), b"12345678901234567890");
/// assert!(reader.next().is_none());
/// # Ok::<(), mfa_import::Rejection>(())
/// ```
pub struct PskcReader<R: BufRead> {
    xml: Reader<Counting<R>>,
    buf: Vec<u8>,
    state: State,
    container: Container,
    options: PskcOptions,
    packages: usize,
    pending: VecDeque<Result<PskcKey, Rejection>>,
    key_cache: Option<Result<Zeroizing<Vec<u8>>, Error>>,
    mac_key_cache: Option<Result<Zeroizing<Vec<u8>>, Error>>,
    root_empty: bool,
    warnings: Vec<Warning>,
}

impl<R: BufRead> fmt::Debug for PskcReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PskcReader")
            .field("packages", &self.packages)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> Drop for PskcReader<R> {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.buf);
    }
}

impl<R: BufRead> PskcReader<R> {
    /// A reader over `input` (anything `BufRead`: a byte slice, a
    /// `BufReader<File>` opened by the caller, ...).
    pub fn new(input: R, options: PskcOptions) -> PskcReader<R> {
        let mut xml = Reader::from_reader(Counting::new(input, &options.limits));
        let cfg = xml.config_mut();
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
        PskcReader {
            xml,
            buf: Vec::with_capacity(4096),
            state: State::Prolog,
            container: Container::default(),
            options,
            packages: 0,
            pending: VecDeque::new(),
            key_cache: None,
            mac_key_cache: None,
            root_empty: false,
            warnings: Vec::new(),
        }
    }

    /// Adapts the reader to yield checked [`ImportedToken`]s.
    pub fn tokens(self) -> impl Iterator<Item = Result<ImportedToken, Rejection>> {
        self.map(|r| r.and_then(|k| k.to_token()))
    }

    /// The KeyContainer's `Id` (or `ID`, `id`), once the root has been read
    /// (after the first call to `next`).
    pub fn container_id(&self) -> Option<&str> {
        self.container.id.as_deref()
    }

    /// The KeyContainer's `Version`, once read.
    pub fn version(&self) -> Option<&str> {
        self.container.version.as_deref()
    }

    /// Names of the pre-shared key from the file (`KeyName`,
    /// `MasterKeyName`, `CarriedKeyName`) seen so far.
    pub fn key_names(&self) -> &[String] {
        &self.container.key_names
    }

    /// True once a `<ds:Signature>` of the container has been read. The
    /// signature is **not** checked: [`PskcReader::warnings`] then holds
    /// [`Warning::SignatureNotChecked`], so a report can say so.
    pub fn is_signed(&self) -> bool {
        self.warnings
            .iter()
            .any(|w| matches!(w, Warning::SignatureNotChecked))
    }

    /// Warnings about the document as a whole seen so far (a signature that
    /// was not checked); complete once the iterator has ended. Add them to
    /// the report with [`crate::ImportReport::add_warnings`].
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    fn line(&self) -> u64 {
        self.xml.get_ref().lines
    }

    fn fatal(&mut self, error: Error) -> Option<Result<PskcKey, Rejection>> {
        self.state = State::Done;
        self.pending.clear();
        let line = self.line();
        let offset = match error {
            Error::XmlSyntax { .. } => self.xml.error_position(),
            Error::ContentBeforeDeclaration { bytes } => bytes,
            _ => self.xml.get_ref().bytes,
        };
        Some(Err(Rejection::new(
            Location::Position { line, offset },
            error,
        )))
    }

    fn read_event(&mut self) -> Result<Event<'_>, Error> {
        self.buf.clear();
        self.xml.get_mut().start_event();
        let limits = self.options.limits;
        match self.xml.read_event_into(&mut self.buf) {
            Ok(ev) => Ok(ev),
            Err(e) => Err(xml::xml_error(&e, self.xml.get_ref(), &limits)),
        }
    }

    /// Reads up to and including the root start tag.
    fn prolog(&mut self) -> Result<(), Error> {
        // Bytes of anything but a byte order mark seen before the first
        // event that is not the XML declaration.
        let mut before_decl = false;
        loop {
            let line_hint = self.line();
            let start = self.xml.get_ref().bytes;
            let limits = self.options.limits;
            let ev = self.read_event()?;
            match ev {
                Event::Decl(_) => {
                    if before_decl {
                        return Err(Error::ContentBeforeDeclaration { bytes: start });
                    }
                    before_decl = true;
                }
                Event::Comment(_) | Event::PI(_) => before_decl = true,
                Event::Text(t) => {
                    if !t.xml10_content().trim_start_matches('\u{feff}').is_empty() {
                        before_decl = true;
                    }
                    if !t.xml10_content().trim().is_empty() {
                        return Err(Error::XmlSyntax {
                            detail: "text before the root element".to_owned(),
                        });
                    }
                }
                Event::DocType(_) => return Err(Error::DoctypeForbidden),
                Event::Start(_) | Event::Empty(_) => {
                    let (root, empty) = match &ev {
                        Event::Start(s) => (xml::start_element(s, line_hint, &limits)?, false),
                        Event::Empty(s) => (xml::start_element(s, line_hint, &limits)?, true),
                        _ => return Err(Error::EmptyDocument),
                    };
                    self.root_empty = empty;
                    if root.name != "KeyContainer" && root.name != "SecretContainer" {
                        return Err(Error::WrongRoot {
                            found: root.name.clone(),
                        });
                    }
                    if root.name == "KeyContainer"
                        && let Some(v) = root.attr_any(&["Version", "version"])
                        && v != "1"
                        && v != "1.0"
                    {
                        return Err(Error::UnsupportedVersion {
                            version: v.to_owned(),
                        });
                    }
                    self.container.root = root.name.clone();
                    self.container.id = root.attr_any(&["Id", "ID", "id"]).map(str::to_owned);
                    self.container.version =
                        root.attr_any(&["Version", "version"]).map(str::to_owned);
                    return Ok(());
                }
                Event::End(_) => {
                    return Err(Error::XmlSyntax {
                        detail: "end tag before the root element".to_owned(),
                    });
                }
                Event::CData(_) => {
                    return Err(Error::XmlSyntax {
                        detail: "CDATA before the root element".to_owned(),
                    });
                }
                Event::GeneralRef(_) => {
                    return Err(Error::XmlSyntax {
                        detail: "entity reference before the root element".to_owned(),
                    });
                }
                Event::Eof => return Err(Error::EmptyDocument),
            }
        }
    }

    /// After the root closed: only comments, PIs and whitespace may follow.
    fn epilog(&mut self) -> Result<(), Error> {
        loop {
            match self.read_event()? {
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if t.xml10_content().trim().is_empty() => {}
                Event::Eof => return Ok(()),
                Event::DocType(_) => return Err(Error::DoctypeForbidden),
                _ => return Err(Error::TrailingContent),
            }
        }
    }

    /// Reads the next child of the root. `Ok(None)` when the root closed.
    fn next_child(&mut self) -> Result<Option<Element>, Error> {
        loop {
            let line = self.line();
            let limits = self.options.limits;
            let ev = self.read_event()?;
            match ev {
                Event::Start(s) => {
                    let el = xml::start_element(&s, line, &limits)?;
                    let el = xml::read_subtree(&mut self.xml, &mut self.buf, el, 1, &limits)
                        .map_err(|e| match e {
                            Error::Truncated { .. } => Error::Truncated {
                                root: self.container.root.clone(),
                            },
                            other => other,
                        })?;
                    return Ok(Some(el));
                }
                Event::Empty(s) => {
                    return Ok(Some(xml::start_element(&s, line, &limits)?));
                }
                Event::End(_) => return Ok(None),
                Event::Text(_)
                | Event::CData(_)
                | Event::Comment(_)
                | Event::PI(_)
                | Event::Decl(_) => {}
                Event::GeneralRef(r) => {
                    xml::resolve_ref(&r)?;
                }
                Event::DocType(_) => return Err(Error::DoctypeForbidden),
                Event::Eof => {
                    return Err(Error::Truncated {
                        root: self.container.root.clone(),
                    });
                }
            }
        }
    }

    fn handle_header(&mut self, el: &Element) -> Result<(), Error> {
        match el.name.as_str() {
            "EncryptionKey" | "EncryptionMethod" => {
                // EncryptionKey wins over the pre-RFC EncryptionMethod.
                if self.container.encryption_seen && el.name == "EncryptionMethod" {
                    return Ok(());
                }
                self.container.encryption_seen = el.name == "EncryptionKey";
                self.parse_encryption(el)?;
                self.key_cache = None;
                self.mac_key_cache = None;
            }
            "MACMethod" | "DigestMethod" => {
                if self.container.mac_seen && el.name == "DigestMethod" {
                    return Ok(());
                }
                self.container.mac_seen = el.name == "MACMethod";
                self.container.mac_algorithm =
                    el.attr_any(&["Algorithm", "algorithm"]).map(str::to_owned);
                if let Some(mk) = el.find(&["MACKey"]) {
                    let (alg, cipher) = parse_encrypted_value(mk, "MACKey")?;
                    self.container.mac_key = Some((alg, cipher));
                }
                self.mac_key_cache = None;
            }
            "MACAlgorithm" => {
                if let Some(t) = el.text() {
                    self.container.mac_algorithm = Some(t.to_owned());
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn parse_encryption(&mut self, el: &Element) -> Result<(), Error> {
        let c = &mut self.container;
        if let Some(a) = el.attr_any(&["Algorithm", "algorithm"])
            && !crypto::is_none_algorithm(a)
        {
            c.enc_algorithm = Some(a.to_owned());
        }
        for n in el.all("KeyName") {
            if let Some(t) = n.text() {
                c.key_names.push(t.to_owned());
            }
        }
        if let Some(dk) = el.find(&["DerivedKey"]) {
            for n in dk.all("MasterKeyName").chain(dk.all("CarriedKeyName")) {
                if let Some(t) = n.text() {
                    c.key_names.push(t.to_owned());
                }
            }
        }
        if let Some(iv) = el.child_text(&["IV"]) {
            c.iv = Some(crypto::b64_decode(iv).ok_or(Error::InvalidBase64 {
                element: "IV".into(),
            })?);
        }
        if let Some(kdm) = el.path(&["DerivedKey", "KeyDerivationMethod"]) {
            c.derivation.algorithm = kdm.attr("Algorithm").map(str::to_owned);
            if let Some(p) = kdm.find(&["PBKDF2-params"]) {
                if let Some(s) = p.path(&["Salt", "Specified"]).and_then(Element::text) {
                    c.derivation.salt =
                        Some(crypto::b64_decode(s).ok_or(Error::InvalidBase64 {
                            element: "Salt".into(),
                        })?);
                }
                c.derivation.iterations = opt_int_text(p, "IterationCount")?;
                c.derivation.key_length = opt_int_text(p, "KeyLength")?;
                if let Some(prf) = p.find(&["PRF"]) {
                    // RFC 6030 writes the PRF as an Algorithm attribute;
                    // python-pskc 1.4 writes it as element text: accept both.
                    c.derivation.prf = prf.attr("Algorithm").or(prf.text()).map(str::to_owned);
                }
            }
        }
        if let Some(s) = el.child_text(&["PBESalt"]) {
            c.derivation.salt = Some(crypto::b64_decode(s).ok_or(Error::InvalidBase64 {
                element: "PBESalt".into(),
            })?);
        }
        if let Some(n) = opt_int_text(el, "PBEIterationCount")? {
            c.derivation.iterations = Some(n);
        }
        let alg = el.attr_any(&["Algorithm", "algorithm"]).unwrap_or("");
        if alg.to_ascii_lowercase().starts_with("pbe") && c.derivation.algorithm.is_none() {
            c.derivation.algorithm = Some(crypto::PBKDF2_URI.to_owned());
            if c.derivation.key_length.is_none()
                && let Some(a) = &c.enc_algorithm
                && let Ok(cipher) = Cipher::from_uri(a)
            {
                c.derivation.key_length = cipher.key_lengths().first().map(|&l| l as u64);
            }
        }
        Ok(())
    }

    fn encryption_key(&mut self) -> Result<Zeroizing<Vec<u8>>, Error> {
        if let Some(cached) = &self.key_cache {
            return cached.clone();
        }
        let result = self.compute_key();
        self.key_cache = Some(result.clone());
        result
    }

    fn compute_key(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        if let Some(k) = &self.options.key {
            return Ok(k.clone());
        }
        let Some(pass) = &self.options.passphrase else {
            return Err(Error::NoDecryptionKey {
                element: String::new(),
            });
        };
        let d = &self.container.derivation;
        let alg = d.algorithm.as_deref().unwrap_or("");
        if !crypto::is_pbkdf2(alg) {
            return Err(Error::UnsupportedKeyDerivation {
                algorithm: alg.to_owned(),
            });
        }
        let prf = match d.prf.as_deref() {
            None => MacAlgorithm::Sha1,
            Some(p) => MacAlgorithm::from_uri(p)
                .map_err(|_| Error::UnsupportedPrf { prf: p.to_owned() })?,
        };
        let salt = d
            .salt
            .as_ref()
            .ok_or(Error::IncompletePbkdf2 { missing: "Salt" })?;
        let iterations = d
            .iterations
            .filter(|&n| n > 0)
            .ok_or(Error::IncompletePbkdf2 {
                missing: "IterationCount",
            })?;
        let max = self.options.limits.max_pbkdf2_iterations;
        if iterations > max {
            return Err(Error::LimitExceeded {
                kind: LimitKind::Pbkdf2Iterations,
                max,
            });
        }
        let key_length =
            d.key_length
                .filter(|&n| n > 0 && n <= 64)
                .ok_or(Error::IncompletePbkdf2 {
                    missing: "KeyLength",
                })?;
        let rounds = u32::try_from(iterations).map_err(|_| Error::LimitExceeded {
            kind: LimitKind::Pbkdf2Iterations,
            max,
        })?;
        let mut out = Zeroizing::new(vec![0u8; key_length as usize]);
        prf.pbkdf2(pass, salt, rounds, &mut out);
        Ok(out)
    }

    fn mac_key(&mut self) -> Result<Zeroizing<Vec<u8>>, Error> {
        if let Some(cached) = &self.mac_key_cache {
            return cached.clone();
        }
        let result = match self.container.mac_key.clone() {
            None => self.encryption_key(),
            Some((alg, cipher)) => self.decrypt_raw("MACKey", alg.as_deref(), &cipher),
        };
        let result = result.map_err(|e| match e {
            Error::DecryptionFailed { .. } => Error::MacMismatch {
                element: "MACKey".into(),
            },
            other => other,
        });
        self.mac_key_cache = Some(result.clone());
        result
    }

    fn cipher_for(&self, element: &str, algorithm: Option<&str>) -> Result<Cipher, Error> {
        let uri = algorithm
            .filter(|a| !crypto::is_none_algorithm(a))
            .or(self.container.enc_algorithm.as_deref())
            .ok_or_else(|| Error::MissingEncryptionAlgorithm {
                element: element.into(),
            })?;
        Cipher::from_uri(uri)
    }

    fn decrypt_raw(
        &mut self,
        element: &str,
        algorithm: Option<&str>,
        data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let key = self.encryption_key().map_err(|e| match e {
            Error::NoDecryptionKey { .. } => Error::NoDecryptionKey {
                element: element.into(),
            },
            other => other,
        })?;
        let cipher = self.cipher_for(element, algorithm)?;
        let iv = self
            .container
            .iv
            .clone()
            .or_else(|| self.options.iv.clone());
        cipher.decrypt(&key, data, iv.as_deref()).map_err(|e| {
            e.unwrap_or_else(|| Error::DecryptionFailed {
                element: element.into(),
            })
        })
    }

    /// Checks the ValueMAC (over the ciphertext as RFC 6030 says, or over
    /// the plaintext as pre-RFC drafts did) and decrypts.
    fn decrypt_value(&mut self, element: &str, v: &EncValue) -> Result<Zeroizing<Vec<u8>>, Error> {
        // The key first, so that a missing key is reported as such.
        let key = self.encryption_key().map_err(|e| match e {
            Error::NoDecryptionKey { .. } => Error::NoDecryptionKey {
                element: element.into(),
            },
            other => other,
        })?;
        drop(key);
        let cipher = self.cipher_for(element, v.algorithm.as_deref())?;
        let Some(tag) = &v.mac else {
            if cipher.is_cbc() && !self.options.allow_unauthenticated {
                return Err(Error::UnauthenticatedValue {
                    element: element.into(),
                });
            }
            return self.decrypt_raw(element, v.algorithm.as_deref(), &v.cipher);
        };
        let mac_uri =
            self.container
                .mac_algorithm
                .clone()
                .ok_or_else(|| Error::MissingMacAlgorithm {
                    element: element.into(),
                })?;
        let mac_alg = MacAlgorithm::from_uri(&mac_uri)?;
        let mac_key = self.mac_key()?;
        if mac_alg.verify(&mac_key, &v.cipher, tag) {
            return self.decrypt_raw(element, v.algorithm.as_deref(), &v.cipher);
        }
        // Older drafts put the MAC over the plaintext: decrypt into a
        // wiped buffer and check before anything is used.
        match self.decrypt_raw(element, v.algorithm.as_deref(), &v.cipher) {
            Ok(plain) if mac_alg.verify(&mac_key, &plain, tag) => Ok(plain),
            Ok(_) | Err(Error::DecryptionFailed { .. }) => Err(Error::MacMismatch {
                element: element.into(),
            }),
            Err(e) => Err(e),
        }
    }

    fn parse_package(&mut self, pkg: &Element) -> Vec<Result<PskcKey, Rejection>> {
        let index = self.packages;
        let mut base = PskcKey::default();
        let info = pkg.find(&["DeviceInfo", "DeviceId"]);
        if let Some(info) = info {
            base.serial = info.child_text(&["SerialNo"]).map(str::to_owned);
        }
        let loc = |key_id: Option<&str>, serial: &Option<String>| Location::KeyPackage {
            index,
            line: pkg.line,
            serial: serial.as_deref().map(Box::from),
            key_id: key_id.map(Box::from),
        };
        let mut out = Vec::new();
        let device = (|| -> Result<(), Error> {
            if let Some(info) = info {
                base.manufacturer = info.child_text(&["Manufacturer"]).map(str::to_owned);
                base.model = info.child_text(&["Model"]).map(str::to_owned);
                base.issue_no = info.child_text(&["IssueNo"]).map(str::to_owned);
                base.device_binding = info.child_text(&["DeviceBinding"]).map(str::to_owned);
                base.device_start_date = opt_date(info, &["StartDate"])?;
                base.device_expiry_date = opt_date(info, &["ExpiryDate", "Expiry"])?;
                base.device_user_id = info.child_text(&["UserId"]).map(str::to_owned);
            }
            base.crypto_module = pkg
                .path(&["CryptoModuleInfo", "Id"])
                .and_then(Element::text)
                .map(str::to_owned);
            Ok(())
        })();
        if let Err(e) = device {
            out.push(Err(Rejection::new(loc(None, &base.serial), e)));
            return out;
        }
        let keys: Vec<&Element> = pkg.all("Key").chain(pkg.all("Secret")).collect();
        for key_el in keys {
            let id = key_el.attr_any(&["Id", "KeyId", "SecretId", "id"]);
            let location = loc(id, &base.serial);
            let mut key = base.clone();
            key.location = Some(location.clone());
            match self.parse_key(&mut key, key_el) {
                Ok(()) => out.push(Ok(key)),
                Err(e) => out.push(Err(Rejection::new(location, e))),
            }
        }
        out
    }

    fn parse_key(&mut self, key: &mut PskcKey, el: &Element) -> Result<(), Error> {
        key.id = el
            .attr_any(&["Id", "KeyId", "SecretId", "id"])
            .map(str::to_owned);
        key.algorithm = el
            .attr_any(&["Algorithm", "KeyAlgorithm", "SecretAlgorithm"])
            .map(str::to_owned);
        if let Some(data) = el.find(&["Data"]) {
            if let Some(s) = data.find(&["Secret"]) {
                key.secret = self.data_secret(s, "Secret")?;
            }
            if let Some(c) = data.find(&["Counter"]) {
                key.counter = to_u64(self.data_int(c, "Counter")?, "Counter")?;
            }
            if let Some(c) = data.find(&["Time"]) {
                key.time = to_i64(self.data_int(c, "Time")?, "Time")?;
            }
            if let Some(c) = data.find(&["TimeInterval"]) {
                key.time_interval = to_u64(self.data_int(c, "TimeInterval")?, "TimeInterval")?;
            }
            if let Some(c) = data.find(&["TimeDrift"]) {
                key.time_drift = to_i64(self.data_int(c, "TimeDrift")?, "TimeDrift")?;
            }
        }
        // Pre-RFC <Data Name="SECRET"> elements.
        for data in el.all("Data") {
            let Some(name) = data.attr("Name") else {
                continue;
            };
            match name.to_ascii_lowercase().as_str() {
                "secret" => key.secret = self.data_secret(data, "Data")?.or(key.secret.take()),
                "counter" => {
                    if let Some(v) = to_u64(self.data_int(data, "Data")?, "Data")? {
                        key.counter = Some(v);
                    }
                }
                "time" => {
                    if let Some(v) = to_i64(self.data_int(data, "Data")?, "Data")? {
                        key.time = Some(v);
                    }
                }
                "time_interval" => {
                    if let Some(v) = to_u64(self.data_int(data, "Data")?, "Data")? {
                        key.time_interval = Some(v);
                    }
                }
                _ => {}
            }
        }
        key.issuer = el.child_text(&["Issuer"]).map(str::to_owned);
        key.key_profile = el.child_text(&["KeyProfileId"]).map(str::to_owned);
        key.key_reference = el.child_text(&["KeyReference"]).map(str::to_owned);
        key.friendly_name = el.child_text(&["FriendlyName"]).map(str::to_owned);
        key.key_user_id = el.child_text(&["UserId"]).map(str::to_owned);
        key.suite = el
            .path(&["AlgorithmParameters", "Suite"])
            .and_then(Element::text)
            .map(str::to_owned);
        let params = el.find(&["AlgorithmParameters"]);
        let usage = el.find(&["Usage"]);
        let challenge = params
            .and_then(|p| p.find(&["ChallengeFormat"]))
            .or_else(|| usage.and_then(|u| u.find(&["ChallengeFormat"])));
        if let Some(cf) = challenge {
            key.challenge = Some(ChallengeFormat {
                encoding: cf
                    .attr_any(&["Encoding", "Format", "format"])
                    .map(str::to_owned),
                min: opt_int_attr(cf, &["Min", "min"])?,
                max: opt_int_attr(cf, &["Max", "max"])?,
                check_digits: match opt_bool_attr(cf, "CheckDigits")? {
                    Some(b) => Some(b),
                    None => opt_bool_attr(cf, "CheckDigit")?,
                },
            });
        }
        let response = params
            .and_then(|p| p.find(&["ResponseFormat"]))
            .or_else(|| usage.and_then(|u| u.find(&["ResponseFormat"])));
        if let Some(rf) = response {
            key.response_encoding = rf
                .attr_any(&["Encoding", "Format", "format"])
                .map(str::to_owned);
            key.response_length = opt_int_attr(rf, &["Length", "length"])?;
            key.response_check = match opt_bool_attr(rf, "CheckDigits")? {
                Some(b) => Some(b),
                None => opt_bool_attr(rf, "CheckDigit")?,
            };
        }
        if let Some(p) = el.find(&["Policy"]) {
            parse_policy(&mut key.policy, p)?;
        }
        if let Some(u) = usage {
            for att in ["OTP", "CR", "Integrity", "Encrypt", "Unlock"] {
                if opt_bool_attr(u, att)? == Some(true) {
                    key.policy.key_usage.push(att.to_owned());
                }
            }
        }
        if let Some(d) = opt_date(el, &["StartDate"])? {
            key.policy.start_date = Some(d);
        }
        if let Some(d) = opt_date(el, &["ExpiryDate"])? {
            key.policy.expiry_date = Some(d);
        }
        Ok(())
    }

    /// Reads a value element: PlainValue, EncryptedValue (+ ValueMAC), or
    /// the legacy Value (+ ValueDigest). Returns the raw bytes (for
    /// integers, already as text or big-endian bytes) and whether it was
    /// plain text.
    fn data_value(
        &mut self,
        el: &Element,
        element: &str,
        secret: bool,
    ) -> Result<Option<Value>, Error> {
        let mut plain: Option<&str> = el.child_text(&["PlainValue"]);
        let mut enc: Option<EncValue> = None;
        if let Some(ev) = el.find(&["EncryptedValue"]) {
            let (alg, cipher) = parse_encrypted_value(ev, element)?;
            if self.container.enc_algorithm.is_none()
                && let Some(a) = &alg
                && !crypto::is_none_algorithm(a)
            {
                self.container.enc_algorithm = Some(a.clone());
                self.key_cache = None;
                self.mac_key_cache = None;
            }
            enc = Some(EncValue {
                algorithm: alg,
                cipher,
                mac: None,
            });
        }
        let mac = match el.child_text(&["ValueMAC", "ValueDigest"]) {
            Some(t) => Some(crypto::b64_decode(t).ok_or_else(|| Error::InvalidBase64 {
                element: "ValueMAC".into(),
            })?),
            None => None,
        };
        if let Some(v) = el.child_text(&["Value"]) {
            if self.container.enc_algorithm.is_some() && mac.is_some() {
                let cipher = crypto::b64_decode(v).ok_or_else(|| Error::InvalidBase64 {
                    element: element.into(),
                })?;
                enc = Some(EncValue {
                    algorithm: None,
                    cipher,
                    mac: None,
                });
            } else {
                plain = Some(v);
            }
        }
        if let Some(p) = plain {
            if secret {
                let bytes = crypto::b64_decode(p).ok_or_else(|| Error::InvalidBase64 {
                    element: element.into(),
                })?;
                return Ok(Some(Value::Bytes(Zeroizing::new(bytes))));
            }
            return Ok(Some(Value::Text(p.to_owned())));
        }
        match enc {
            Some(mut e) if !e.cipher.is_empty() => {
                e.mac = mac;
                let plain = self.decrypt_value(element, &e)?;
                Ok(Some(Value::Bytes(plain)))
            }
            _ => Ok(None),
        }
    }

    fn data_secret(&mut self, el: &Element, element: &str) -> Result<Option<RawSecret>, Error> {
        Ok(match self.data_value(el, element, true)? {
            Some(Value::Bytes(b)) => Some(RawSecret(b)),
            Some(Value::Text(t)) => Some(RawSecret(Zeroizing::new(t.into_bytes()))),
            None => None,
        })
    }

    fn data_int(&mut self, el: &Element, element: &str) -> Result<Option<i128>, Error> {
        Ok(match self.data_value(el, element, false)? {
            Some(Value::Text(t)) => Some(plain_to_int(&t, element)?),
            Some(Value::Bytes(b)) => Some(bytes_to_int(&b, element)?),
            None => None,
        })
    }
}

enum Value {
    Text(String),
    Bytes(Zeroizing<Vec<u8>>),
}

fn parse_encrypted_value(el: &Element, element: &str) -> Result<(Option<String>, Vec<u8>), Error> {
    let cipher = match el
        .path(&["CipherData", "CipherValue"])
        .and_then(Element::text)
    {
        Some(t) => crypto::b64_decode(t).ok_or_else(|| Error::InvalidBase64 {
            element: element.into(),
        })?,
        None => Vec::new(),
    };
    let method = el.find(&["EncryptionMethod"]);
    let mut algorithm = method.and_then(|m| m.attr("Algorithm")).map(str::to_owned);
    if let Some(scheme) = method.and_then(|m| m.find(&["EncryptionScheme"]))
        && let Some(a) = scheme.attr("Algorithm")
    {
        algorithm = Some(a.to_owned());
    }
    Ok((algorithm, cipher))
}

fn parse_policy(policy: &mut Policy, el: &Element) -> Result<(), Error> {
    policy.start_date = opt_date(el, &["StartDate"])?;
    policy.expiry_date = opt_date(el, &["ExpiryDate"])?;
    policy.number_of_transactions = opt_int_text(el, "NumberOfTransactions")?;
    for ku in el.all("KeyUsage") {
        if let Some(t) = ku.text() {
            policy.key_usage.push(t.to_owned());
        }
    }
    if let Some(pp) = el.find(&["PINPolicy"]) {
        let known = [
            "PINKeyId",
            "PINUsageMode",
            "MaxFailedAttempts",
            "MinLength",
            "MaxLength",
            "PINEncoding",
        ];
        if !pp.children.is_empty() || pp.attrs.iter().any(|(k, _)| !known.contains(&k.as_str())) {
            policy.unknown_elements = true;
        }
        policy.pin_policy = Some(PinPolicy {
            pin_key_id: pp.attr("PINKeyId").map(str::to_owned),
            usage: pp.attr("PINUsageMode").map(str::to_owned),
            max_failed_attempts: opt_int_attr(pp, &["MaxFailedAttempts"])?,
            min_length: opt_int_attr(pp, &["MinLength"])?,
            max_length: opt_int_attr(pp, &["MaxLength"])?,
            encoding: pp.attr("PINEncoding").map(str::to_owned),
        });
    }
    let known = [
        "StartDate",
        "ExpiryDate",
        "NumberOfTransactions",
        "KeyUsage",
        "PINPolicy",
    ];
    if el
        .children
        .iter()
        .any(|c| !known.contains(&c.name.as_str()))
    {
        policy.unknown_elements = true;
    }
    Ok(())
}

fn opt_date(el: &Element, names: &[&str]) -> Result<Option<PskcDate>, Error> {
    let Some(found) = el.find(names) else {
        return Ok(None);
    };
    let Some(text) = found.text() else {
        return Ok(None);
    };
    match parse_date(text) {
        Some(unix) => Ok(Some(PskcDate {
            text: text.to_owned(),
            unix,
        })),
        None => Err(Error::InvalidDate {
            element: found.name.clone(),
            value: truncate(text),
        }),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

fn opt_int_text(el: &Element, name: &str) -> Result<Option<u64>, Error> {
    match el.child_text(&[name]) {
        None => Ok(None),
        Some(t) => parse_decimal(t)
            .and_then(|v| u64::try_from(v).ok())
            .map(Some)
            .ok_or_else(|| Error::InvalidInteger {
                element: name.to_owned(),
                value: truncate(t),
            }),
    }
}

fn opt_int_attr(el: &Element, names: &[&str]) -> Result<Option<u64>, Error> {
    for n in names {
        if let Some(t) = el.attr(n) {
            return parse_decimal(t.trim())
                .and_then(|v| u64::try_from(v).ok())
                .map(Some)
                .ok_or_else(|| Error::InvalidInteger {
                    element: format!("{}@{}", el.name, n),
                    value: truncate(t),
                });
        }
    }
    Ok(None)
}

fn opt_bool_attr(el: &Element, name: &str) -> Result<Option<bool>, Error> {
    match el.attr(name) {
        None => Ok(None),
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" => Ok(Some(true)),
            "0" | "false" => Ok(Some(false)),
            _ => Err(Error::InvalidBoolean {
                element: format!("{}@{}", el.name, name),
                value: truncate(v),
            }),
        },
    }
}

/// A decimal integer with an optional sign.
fn parse_decimal(t: &str) -> Option<i128> {
    let t = t.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..)?),
        Some(b'+') => (false, t.get(1..)?),
        _ => (false, t),
    };
    if digits.is_empty() || digits.len() > 30 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i128 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// An integer PlainValue: decimal text, else base64 of decimal text, else
/// base64 of a big-endian number (the encodings found in real files).
fn plain_to_int(t: &str, element: &str) -> Result<i128, Error> {
    if let Some(v) = parse_decimal(t) {
        return Ok(v);
    }
    let bytes = crypto::b64_decode(t).ok_or_else(|| Error::InvalidInteger {
        element: element.to_owned(),
        value: truncate(t),
    })?;
    bytes_to_int(&bytes, element)
}

/// Decoded integer bytes: ASCII digits, else big-endian.
fn bytes_to_int(b: &[u8], element: &str) -> Result<i128, Error> {
    if !b.is_empty() && b.iter().all(u8::is_ascii_digit) {
        return std::str::from_utf8(b)
            .ok()
            .and_then(parse_decimal)
            .ok_or_else(|| Error::IntegerRange {
                element: element.to_owned(),
            });
    }
    let trimmed: &[u8] = {
        let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
        b.get(first..).unwrap_or_default()
    };
    if trimmed.len() > 8 {
        return Err(Error::IntegerRange {
            element: element.to_owned(),
        });
    }
    Ok(trimmed
        .iter()
        .fold(0i128, |acc, &x| (acc << 8) | i128::from(x)))
}

fn to_u64(v: Option<i128>, element: &str) -> Result<Option<u64>, Error> {
    v.map(|v| {
        u64::try_from(v).map_err(|_| Error::IntegerRange {
            element: element.to_owned(),
        })
    })
    .transpose()
}

fn to_i64(v: Option<i128>, element: &str) -> Result<Option<i64>, Error> {
    v.map(|v| {
        i64::try_from(v).map_err(|_| Error::IntegerRange {
            element: element.to_owned(),
        })
    })
    .transpose()
}

fn num(s: &str) -> Option<u32> {
    (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Parses `YYYY-MM-DD[zone]`, `YYYY-MM-DDTHH:MM[:SS[.fff…]][zone]` (XML
/// Schema `date` / `dateTime`, ISO 8601) and the pre-RFC `MM/DD/YYYY` into
/// seconds since the epoch. Without a zone the time is taken as UTC; a
/// zone (`Z`, `+02:00`, `-0500`) is applied; fractional seconds are
/// checked and dropped (the value is rounded down to the second).
/// Impossible dates and times (February 30th, 25:00, a minute of 60,
/// `24:00:01`, a zone past ±14:00) are refused.
///
/// ```
/// use mfa_import::parse_date;
/// assert_eq!(parse_date("2006-05-01T00:00:00Z"), Some(1_146_441_600));
/// assert_eq!(parse_date("2006-05-01T02:00:00.999+02:00"), Some(1_146_441_600));
/// assert_eq!(parse_date("2006-05-01"), Some(1_146_441_600));
/// assert_eq!(parse_date("05/01/2006"), Some(1_146_441_600));
/// assert_eq!(parse_date("2006-02-30T00:00:00Z"), None);
/// assert_eq!(parse_date("2006-05-01T00:00:00.Z"), None);
/// ```
pub fn parse_date(text: &str) -> Option<i64> {
    // The calendar is mfa-time's (one for the workspace): days that do not
    // exist, such as 2023-02-29, are refused.
    let t = text.trim();
    if let Some((m, rest)) = t.split_once('/') {
        let (d, y) = rest.split_once('/')?;
        let (y, m, d) = (num(y)?, num(m)?, num(d)?);
        let date = mfa_time::Date::new(i64::from(y), u8::try_from(m).ok()?, u8::try_from(d).ok()?);
        return date.ok().map(mfa_time::Date::unix_secs);
    }
    mfa_time::parse_timestamp(t).ok()
}

impl<R: BufRead> Iterator for PskcReader<R> {
    type Item = Result<PskcKey, Rejection>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(p) = self.pending.pop_front() {
                return Some(p);
            }
            match self.state {
                State::Done => return None,
                State::Prolog => {
                    if let Err(e) = self.prolog() {
                        return self.fatal(e);
                    }
                    self.state = State::Body;
                    if self.root_was_empty() {
                        if let Err(e) = self.epilog() {
                            return self.fatal(e);
                        }
                        self.state = State::Done;
                    }
                }
                State::Body => match self.next_child() {
                    Err(e) => return self.fatal(e),
                    Ok(None) => {
                        if let Err(e) = self.epilog() {
                            return self.fatal(e);
                        }
                        self.state = State::Done;
                    }
                    Ok(Some(el)) => {
                        if el.name == "KeyPackage" || el.name == "Device" {
                            self.packages += 1;
                            if self.packages > self.options.limits.max_packages {
                                let max = self.options.limits.max_packages as u64;
                                return self.fatal(Error::LimitExceeded {
                                    kind: LimitKind::Packages,
                                    max,
                                });
                            }
                            let items = self.parse_package(&el);
                            self.pending.extend(items);
                        } else if el.name == "Signature" {
                            if !self.is_signed() {
                                self.warnings.push(Warning::SignatureNotChecked);
                            }
                        } else if let Err(e) = self.handle_header(&el) {
                            // A broken header makes every encrypted value
                            // unreadable: report it once, as fatal.
                            return self.fatal(e);
                        }
                    }
                },
            }
        }
    }
}

impl<R: BufRead> PskcReader<R> {
    fn root_was_empty(&self) -> bool {
        self.root_empty
    }
}
