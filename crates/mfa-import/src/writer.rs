//! The PSKC writer: plain, pre-shared key, or PBKDF2 passphrase; AES-CBC
//! with an HMAC-SHA256 ValueMAC over IV‖ciphertext (RFC 6030 §6.1.1).

use std::fmt;
use std::io::Write;

use quick_xml::escape::escape;
use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use crate::crypto::{self, Cipher, MacAlgorithm};
use crate::{Error, ImportedToken, TokenKind};

/// How the secrets of a written file are protected.
#[derive(Clone)]
#[non_exhaustive]
pub enum Protection {
    /// Secrets in plain text (base64). Only for files that never leave a
    /// protected channel.
    None,
    /// A pre-shared AES key (16, 24 or 32 bytes: AES-128/192/256-CBC),
    /// named by `key_name` in the file.
    PreSharedKey {
        /// The key.
        key: Zeroizing<Vec<u8>>,
        /// The `KeyName` written to the file, so the receiver knows which key.
        key_name: String,
    },
    /// A key derived from a passphrase with PBKDF2-HMAC-SHA256 (random
    /// 16-byte salt), AES-256-CBC.
    Passphrase {
        /// The passphrase.
        passphrase: Zeroizing<Vec<u8>>,
        /// PBKDF2 iterations (at least 1,000; 100,000 or more recommended).
        iterations: u32,
        /// The `MasterKeyName` written to the file.
        key_name: String,
    },
}

impl fmt::Debug for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protection::None => f.write_str("Protection::None"),
            Protection::PreSharedKey { key_name, .. } => f
                .debug_struct("Protection::PreSharedKey")
                .field("key", &"[REDACTED]")
                .field("key_name", key_name)
                .finish(),
            Protection::Passphrase {
                iterations,
                key_name,
                ..
            } => f
                .debug_struct("Protection::Passphrase")
                .field("passphrase", &"[REDACTED]")
                .field("iterations", iterations)
                .field("key_name", key_name)
                .finish(),
        }
    }
}

impl Protection {
    /// A pre-shared key protection.
    pub fn pre_shared_key(key: &[u8], key_name: &str) -> Protection {
        Protection::PreSharedKey {
            key: Zeroizing::new(key.to_vec()),
            key_name: key_name.to_owned(),
        }
    }

    /// A passphrase protection.
    pub fn passphrase(passphrase: &str, iterations: u32) -> Protection {
        Protection::Passphrase {
            passphrase: Zeroizing::new(passphrase.as_bytes().to_vec()),
            iterations,
            key_name: "Passphrase".to_owned(),
        }
    }
}

struct Encryption {
    cipher: Cipher,
    key: Zeroizing<Vec<u8>>,
    mac_key: Zeroizing<Vec<u8>>,
}

const MAC: MacAlgorithm = MacAlgorithm::Sha256;
const NS: &str = r#"xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#""#;

/// Writes a PSKC (RFC 6030) file one token at a time, so exporting a
/// million tokens needs no more memory than one. Randomness (IVs, salt,
/// MAC key) comes from the injected generator.
///
/// ```
/// use mfa_import::{PskcOptions, PskcReader, PskcWriter, Protection};
/// # struct Fixed(u8); impl rand_core::TryRng for Fixed { type Error = core::convert::Infallible;
/// # fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
/// # fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
/// # fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> { for b in d { self.0 = self.0.wrapping_mul(31).wrapping_add(7); *b = self.0 } Ok(()) } }
/// # impl rand_core::TryCryptoRng for Fixed {}
/// # let rng = Fixed(1); // a real caller passes e.g. getrandom::SysRng
/// let csv = "upn,serial number,secret key,time interval,manufacturer,model\n\
///            Helga@contoso.com,1234567,JBSWY3DPEHPK3PXP,60,Contoso,HardwareKey\n";
/// let token = mfa_import::CloudCsvReader::new(csv.as_bytes()).next().unwrap()?;
///
/// let mut w = PskcWriter::new(Vec::new(), Protection::passphrase("qwerty", 1000), rng)?;
/// w.write_token(&token)?;
/// let xml = w.finish()?;
///
/// let back = PskcReader::new(&xml[..], PskcOptions::new().passphrase("qwerty"))
///     .tokens().next().unwrap().unwrap();
/// assert!(back.secret.ct_eq(&token.secret));
/// assert_eq!(back.serial.as_deref(), Some("1234567"));
/// assert_eq!(back.user.as_deref(), Some("Helga@contoso.com"));
/// assert_eq!(back.period(), Some(60));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PskcWriter<W: Write, R> {
    out: W,
    rng: R,
    enc: Option<Encryption>,
    count: usize,
}

impl<W: Write, R> fmt::Debug for PskcWriter<W, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PskcWriter")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

/// A validity date as RFC 6030 writes it (`xs:dateTime` in UTC), through
/// the one calendar (mfa-time).
fn date(secs: i64) -> Result<mfa_time::Timestamp, Error> {
    mfa_time::format_timestamp(secs).map_err(|_| Error::WriterConfig {
        reason: "a validity date outside the years 0 to 9999",
    })
}

fn io(e: &std::io::Error) -> Error {
    Error::Write(e.kind())
}

impl<W: Write, R: TryCryptoRng> PskcWriter<W, R> {
    /// Starts a file: writes the container header (and the encryption and
    /// MAC key information).
    ///
    /// # Errors
    /// [`Error::WriterConfig`] for a pre-shared key that is not 16, 24 or 32
    /// bytes or fewer than 1,000 PBKDF2 iterations; [`Error::Rng`];
    /// [`Error::Write`].
    pub fn new(out: W, protection: Protection, mut rng: R) -> Result<PskcWriter<W, R>, Error> {
        let mut head = String::with_capacity(1024);
        head.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        head.push_str(&format!("<pskc:KeyContainer {NS} Version=\"1.0\">\n"));
        let enc = match protection {
            Protection::None => None,
            Protection::PreSharedKey { key, key_name } => {
                let cipher = match key.len() {
                    16 => Cipher::Aes128Cbc,
                    24 => Cipher::Aes192Cbc,
                    32 => Cipher::Aes256Cbc,
                    _ => {
                        return Err(Error::WriterConfig {
                            reason: "a pre-shared AES key is 16, 24 or 32 bytes long",
                        });
                    }
                };
                head.push_str(&format!(
                    "  <pskc:EncryptionKey>\n    <ds:KeyName>{}</ds:KeyName>\n  </pskc:EncryptionKey>\n",
                    escape(key_name.as_str())
                ));
                Some(Encryption {
                    cipher,
                    key,
                    mac_key: Zeroizing::new(Vec::new()),
                })
            }
            Protection::Passphrase {
                passphrase,
                iterations,
                key_name,
            } => {
                if iterations < 1000 {
                    return Err(Error::WriterConfig {
                        reason: "PBKDF2 needs at least 1,000 iterations",
                    });
                }
                let mut salt = [0u8; 16];
                rng.try_fill_bytes(&mut salt).map_err(|_| Error::Rng)?;
                let mut key = Zeroizing::new(vec![0u8; 32]);
                MacAlgorithm::Sha256.pbkdf2(&passphrase, &salt, iterations, &mut key);
                head.push_str(&format!(
                    concat!(
                        "  <pskc:EncryptionKey>\n",
                        "    <xenc11:DerivedKey>\n",
                        "      <xenc11:KeyDerivationMethod Algorithm=\"{pbkdf2}\">\n",
                        "        <pkcs5:PBKDF2-params>\n",
                        "          <Salt><Specified>{salt}</Specified></Salt>\n",
                        "          <IterationCount>{iterations}</IterationCount>\n",
                        "          <KeyLength>32</KeyLength>\n",
                        "          <PRF Algorithm=\"{prf}\"/>\n",
                        "        </pkcs5:PBKDF2-params>\n",
                        "      </xenc11:KeyDerivationMethod>\n",
                        "      <xenc11:MasterKeyName>{name}</xenc11:MasterKeyName>\n",
                        "    </xenc11:DerivedKey>\n",
                        "  </pskc:EncryptionKey>\n",
                    ),
                    pbkdf2 = crypto::PBKDF2_URI,
                    salt = crypto::b64_encode(&salt),
                    iterations = iterations,
                    prf = MAC.uri(),
                    name = escape(key_name.as_str()),
                ));
                Some(Encryption {
                    cipher: Cipher::Aes256Cbc,
                    key,
                    mac_key: Zeroizing::new(Vec::new()),
                })
            }
        };
        let mut writer = PskcWriter {
            out,
            rng,
            enc: None,
            count: 0,
        };
        if let Some(mut e) = enc {
            let mut mac_key = Zeroizing::new(vec![0u8; MAC.output_len()]);
            writer
                .rng
                .try_fill_bytes(&mut mac_key)
                .map_err(|_| Error::Rng)?;
            let wrapped = writer.encrypt(e.cipher, &e.key, &mac_key)?;
            e.mac_key = mac_key;
            head.push_str(&format!(
                concat!(
                    "  <pskc:MACMethod Algorithm=\"{mac}\">\n",
                    "    <pskc:MACKey>\n",
                    "      <xenc:EncryptionMethod Algorithm=\"{alg}\"/>\n",
                    "      <xenc:CipherData><xenc:CipherValue>{value}</xenc:CipherValue></xenc:CipherData>\n",
                    "    </pskc:MACKey>\n",
                    "  </pskc:MACMethod>\n",
                ),
                mac = MAC.uri(),
                alg = e.cipher.uri(),
                value = crypto::b64_encode(&wrapped),
            ));
            writer.enc = Some(e);
        }
        writer.out.write_all(head.as_bytes()).map_err(|e| io(&e))?;
        Ok(writer)
    }

    fn encrypt(&mut self, cipher: Cipher, key: &[u8], plain: &[u8]) -> Result<Vec<u8>, Error> {
        let mut iv = [0u8; 16];
        self.rng.try_fill_bytes(&mut iv).map_err(|_| Error::Rng)?;
        cipher.encrypt(key, plain, iv.get(..cipher.block_len()).unwrap_or(&iv))
    }

    /// Writes one token as a KeyPackage: DeviceInfo (Manufacturer,
    /// SerialNo, Model), the Key with its Id, Issuer, algorithm suite and
    /// response format, FriendlyName, the Secret, the HOTP Counter (the
    /// next counter) or the TOTP Time (0: T0 is the epoch), TimeInterval and
    /// TimeDrift, UserId, and a Policy with StartDate/ExpiryDate (UTC
    /// `dateTime`) when the token has a validity period. The TOTP
    /// last-accepted step has no PSKC element and is not written.
    ///
    /// # Errors
    /// [`Error::WriterConfig`] for a TOTP token whose T0 is not the epoch
    /// (the reader, like the apps, takes T0 = 0, so it would not read back
    /// the same token); [`Error::Rng`] or [`Error::Write`].
    pub fn write_token(&mut self, token: &ImportedToken) -> Result<(), Error> {
        if let TokenKind::Totp { params, .. } = token.kind
            && params.t0 != mfa_oath::UnixTime::EPOCH
        {
            return Err(Error::WriterConfig {
                reason: "a TOTP token with a T0 other than the epoch cannot be written to PSKC",
            });
        }
        self.count += 1;
        let mut x = Zeroizing::new(String::with_capacity(1024));
        x.push_str("  <pskc:KeyPackage>\n");
        let device = [
            ("Manufacturer", &token.manufacturer),
            ("SerialNo", &token.serial),
            ("Model", &token.model),
        ];
        if device.iter().any(|(_, v)| v.is_some()) {
            x.push_str("    <pskc:DeviceInfo>\n");
            for (name, value) in device {
                if let Some(v) = value {
                    x.push_str(&format!(
                        "      <pskc:{name}>{}</pskc:{name}>\n",
                        escape(v.as_str())
                    ));
                }
            }
            x.push_str("    </pskc:DeviceInfo>\n");
        }
        let id = token
            .key_id
            .clone()
            .or_else(|| token.serial.clone())
            .unwrap_or_else(|| self.count.to_string());
        let (uri, algorithm, digits) = match token.kind {
            TokenKind::Hotp { params, .. } => (
                "urn:ietf:params:xml:ns:keyprov:pskc:hotp",
                params.algorithm,
                params.digits,
            ),
            TokenKind::Totp { params, .. } => (
                "urn:ietf:params:xml:ns:keyprov:pskc:totp",
                params.algorithm,
                params.digits,
            ),
        };
        x.push_str(&format!(
            "    <pskc:Key Id=\"{}\" Algorithm=\"{uri}\">\n",
            escape(id.as_str())
        ));
        if let Some(issuer) = &token.issuer {
            x.push_str(&format!(
                "      <pskc:Issuer>{}</pskc:Issuer>\n",
                escape(issuer.as_str())
            ));
        }
        x.push_str("      <pskc:AlgorithmParameters>\n");
        if algorithm != mfa_oath::Algorithm::Sha1 {
            x.push_str(&format!(
                "        <pskc:Suite>HMAC-{algorithm}</pskc:Suite>\n"
            ));
        }
        x.push_str(&format!(
            "        <pskc:ResponseFormat Length=\"{}\" Encoding=\"DECIMAL\"/>\n",
            digits.get()
        ));
        x.push_str("      </pskc:AlgorithmParameters>\n");
        if let Some(name) = &token.friendly_name {
            x.push_str(&format!(
                "      <pskc:FriendlyName>{}</pskc:FriendlyName>\n",
                escape(name.as_str())
            ));
        }
        x.push_str("      <pskc:Data>\n        <pskc:Secret>\n");
        let secret = token.secret.expose_secret();
        match &self.enc {
            None => {
                x.push_str("          <pskc:PlainValue>");
                x.push_str(&Zeroizing::new(crypto::b64_encode(secret)));
                x.push_str("</pskc:PlainValue>\n");
            }
            Some(e) => {
                let (cipher, key) = (e.cipher, e.key.clone());
                let mac_key = e.mac_key.clone();
                let value = self.encrypt(cipher, &key, secret)?;
                let tag = MAC.compute(&mac_key, &value);
                x.push_str(&format!(
                    concat!(
                        "          <pskc:EncryptedValue>\n",
                        "            <xenc:EncryptionMethod Algorithm=\"{alg}\"/>\n",
                        "            <xenc:CipherData><xenc:CipherValue>{value}</xenc:CipherValue></xenc:CipherData>\n",
                        "          </pskc:EncryptedValue>\n",
                        "          <pskc:ValueMAC>{mac}</pskc:ValueMAC>\n",
                    ),
                    alg = cipher.uri(),
                    value = crypto::b64_encode(&value),
                    mac = crypto::b64_encode(&tag),
                ));
            }
        }
        x.push_str("        </pskc:Secret>\n");
        let plain = |x: &mut String, name: &str, v: &dyn fmt::Display| {
            x.push_str(&format!(
                "        <pskc:{name}><pskc:PlainValue>{v}</pskc:PlainValue></pskc:{name}>\n"
            ));
        };
        match token.kind {
            TokenKind::Hotp { state, .. } => {
                let next = state.next_counter().unwrap_or(u64::MAX);
                plain(&mut x, "Counter", &next);
            }
            TokenKind::Totp { params, state } => {
                plain(&mut x, "Time", &0);
                plain(&mut x, "TimeInterval", &params.period.seconds());
                if state.drift != 0 {
                    plain(&mut x, "TimeDrift", &state.drift);
                }
            }
        }
        x.push_str("      </pskc:Data>\n");
        if let Some(user) = &token.user {
            x.push_str(&format!(
                "      <pskc:UserId>{}</pskc:UserId>\n",
                escape(user.as_str())
            ));
        }
        if token.not_before.is_some() || token.not_after.is_some() {
            x.push_str("      <pskc:Policy>\n");
            if let Some(t) = token.not_before {
                x.push_str(&format!(
                    "        <pskc:StartDate>{}</pskc:StartDate>\n",
                    date(t)?
                ));
            }
            if let Some(t) = token.not_after {
                x.push_str(&format!(
                    "        <pskc:ExpiryDate>{}</pskc:ExpiryDate>\n",
                    date(t)?
                ));
            }
            x.push_str("      </pskc:Policy>\n");
        }
        x.push_str("    </pskc:Key>\n  </pskc:KeyPackage>\n");
        self.out.write_all(x.as_bytes()).map_err(|e| io(&e))
    }

    /// Closes the container and returns the output.
    ///
    /// # Errors
    /// [`Error::Write`].
    pub fn finish(mut self) -> Result<W, Error> {
        self.out
            .write_all(b"</pskc:KeyContainer>\n")
            .map_err(|e| io(&e))?;
        self.out.flush().map_err(|e| io(&e))?;
        Ok(self.out)
    }
}
