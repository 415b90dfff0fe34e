//! The one error type of the crate.

use std::io;
use std::path::PathBuf;

/// Why a sign-in could not be decided. Every variant makes the module
/// answer `PAM_AUTHINFO_UNAVAIL` or `PAM_SERVICE_ERR`, never success.
///
/// No variant carries a code, a password or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A module argument this version does not know (a typo must not pass
    /// silently: `nulok` is not `nullok`).
    #[error("unknown module argument {arg:?}")]
    UnknownArgument {
        /// The argument as written in the service file.
        arg: String,
    },
    /// A module argument with a value that does not parse.
    #[error("module argument {name}= has a bad value {value:?}: {expected}")]
    BadValue {
        /// The argument name.
        name: &'static str,
        /// The value as written.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// A required module argument is missing.
    #[error("module argument {name}= is required")]
    MissingArgument {
        /// The argument name.
        name: &'static str,
    },
    /// `use_first_pass` and `try_first_pass` together.
    #[error("use_first_pass and try_first_pass exclude each other")]
    ConflictingArguments,
    /// The master key file cannot be used.
    #[error("master key file {}: {problem}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: KeyProblem,
    },
    /// The SQLite file named by `db=` does not exist (the module never
    /// creates a store: an empty one would know no user).
    #[error("the store {} does not exist", path.display())]
    StoreMissing {
        /// The file.
        path: PathBuf,
    },
    /// The store could not be opened or did not answer.
    #[error("store: {0}")]
    Store(#[from] mfa_store::Error),
}

/// What is wrong with a master key file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyProblem {
    /// It cannot be opened or read (missing, permission, a symbolic link).
    #[error("cannot read it: {0}")]
    Io(#[source] io::Error),
    /// Not a regular file.
    #[error("not a regular file")]
    NotAFile,
    /// Owned by someone other than root or the process's effective user.
    #[error("owned by uid {uid}, not by root or by uid {euid}")]
    Owner {
        /// The file's owner.
        uid: u32,
        /// The process's effective uid.
        euid: u32,
    },
    /// Readable or writable by group or others.
    #[error("mode {mode:04o} gives access to group or others (chmod 0600)")]
    Mode {
        /// The permission bits.
        mode: u32,
    },
    /// Larger than a key file can be.
    #[error("larger than {max} bytes")]
    TooLarge {
        /// The limit.
        max: u64,
    },
    /// Not `<id>:<64 hex digits>`.
    #[error("not `<id>:<64 hex digits>`")]
    Format,
}
