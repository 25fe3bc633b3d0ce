//! Why a run did not end in `OK`, and which exit code tells a script so: something was proven
//! wrong (1), or the check could not be carried out (2).

use std::fmt;

/// Exit code when the log or proof was checked and something does not verify.
pub const EXIT_INVALID: u8 = 1;
/// Exit code when the check could not be run: arguments, files, network, HTTP errors.
/// (clap also exits with 2 on a usage error.)
pub const EXIT_UNCHECKED: u8 = 2;

/// How a run failed.
#[derive(Debug)]
pub enum Failure {
    /// The data was checked and is wrong: a bad signature, a tile or entry that does not hash to
    /// the checkpoint's root, a malformed checkpoint, tile or proof.
    Invalid(anyhow::Error),
    /// Nothing was proven wrong, but the check could not be completed.
    Unchecked(anyhow::Error),
}

/// The result of a step of a check.
pub type Outcome<T> = Result<T, Failure>;

impl Failure {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Invalid(_) => EXIT_INVALID,
            Failure::Unchecked(_) => EXIT_UNCHECKED,
        }
    }
}

/// One line: `FAILED: <what>: <why>` or `error: <what>: <why>`.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (label, err) = match self {
            Failure::Invalid(e) => ("FAILED", e),
            Failure::Unchecked(e) => ("error", e),
        };
        // `{:#}` joins the context chain with ": "; a reason is kept to one line so that
        // scripts can grep it.
        let reason = format!("{err:#}").replace(['\n', '\r'], " ");
        write!(f, "{label}: {reason}")
    }
}

/// A verification failure with this reason.
pub fn invalid(reason: impl fmt::Display) -> Failure {
    Failure::Invalid(anyhow::Error::msg(reason.to_string()))
}

/// A could-not-check failure with this reason.
pub fn unchecked(reason: impl fmt::Display) -> Failure {
    Failure::Unchecked(anyhow::Error::msg(reason.to_string()))
}

/// Classifies an error as [`Failure::Invalid`] or [`Failure::Unchecked`], naming what failed.
pub trait Classify<T> {
    /// The data is wrong; `what` names the checkpoint, tile or proof.
    fn invalid(self, what: impl fmt::Display + Send + Sync + 'static) -> Outcome<T>;
    /// The check could not be run; `what` names the step.
    fn unchecked(self, what: impl fmt::Display + Send + Sync + 'static) -> Outcome<T>;
}

impl<T, E: Into<anyhow::Error>> Classify<T> for Result<T, E> {
    fn invalid(self, what: impl fmt::Display + Send + Sync + 'static) -> Outcome<T> {
        self.map_err(|e| Failure::Invalid(e.into().context(what)))
    }

    fn unchecked(self, what: impl fmt::Display + Send + Sync + 'static) -> Outcome<T> {
        self.map_err(|e| Failure::Unchecked(e.into().context(what)))
    }
}
