//! `mfa demo`: the whole job on a fresh embedded store, step by step.

use std::path::PathBuf;

use mfa_oath::{Secret, Totp, TotpParams, UnixTime};

use crate::Failure;
use crate::ctx::{Global, create_key_file, format_time, now};
use crate::output::Output;

/// The sample token file, shipped inside the binary so the demo runs anywhere.
const SAMPLE: &[u8] = include_bytes!("../samples/demo.pskcxml");
/// The first sample token's secret: the token "in the user's hand" whose
/// codes the demo computes (it is in the sample file, so it is no secret).
const SAMPLE_SECRET: &[u8] = b"12345678901234567890";
const SERIAL: &str = "DEMO-0001";
const USER: &str = "helga@contoso.com";

pub(crate) fn run(dir: Option<PathBuf>, out: &mut Output<'_>) -> Result<(), Failure> {
    let dir = match dir {
        Some(d) => d,
        None => {
            std::env::temp_dir().join(format!("mfa-demo-{}-{}", std::process::id(), now().secs()))
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| Failure::input(format!("{}: {e}", dir.display())))?;
    let db_path = dir.join("mfa.db");
    if db_path.exists() {
        return Err(Failure::input(format!(
            "{} exists already; the demo wants a fresh directory",
            db_path.display()
        )));
    }
    let g = Global {
        db: format!("sqlite:{}", db_path.display()),
        key_file: dir.join("mfa.key"),
        json: false,
    };
    // The narrative is not a result: the same with or without --json.
    let say = |out: &mut Output<'_>, line: String| out.verbatim(format!("{line}\n").as_bytes());

    say(
        out,
        format!("1. a fresh embedded store in {}", dir.display()),
    )?;
    create_key_file(&g.key_file, 1)?;
    let store = g.open()?;
    say(
        out,
        format!("   {} and master key {}", g.db, g.key_file.display()),
    )?;

    let sample = dir.join("demo.pskcxml");
    std::fs::write(&sample, SAMPLE)
        .map_err(|e| Failure::input(format!("{}: {e}", sample.display())))?;
    say(
        out,
        format!("2. import the sample PSKC file {}", sample.display()),
    )?;
    drop(store);
    let args = crate::import::ImportArgs::for_demo(sample);
    let mut summary = Vec::new();
    crate::import::run(&g, args, &mut Output::new(&mut summary, false))?;
    for line in String::from_utf8_lossy(&summary).lines() {
        say(out, format!("   {line}"))?;
    }
    let store = g.open()?;

    let t = now();
    say(out, format!("3. assign token {SERIAL} to {USER}"))?;
    store
        .assign(SERIAL, USER, t)
        .map_err(|e| Failure::store(&g.db, e))?;

    let token = Totp::new(
        Secret::from_bytes(SAMPLE_SECRET).map_err(Failure::input)?,
        TotpParams::default(),
    );
    let step = token.step_at(t).map_err(Failure::input)?;
    // The administrator types the code the token showed a moment ago (the
    // previous step, inside the default window), so that the current code
    // is still fresh for the user's sign-in below.
    let shown = token.generate_at_step(step.saturating_sub(1)).to_string();
    say(
        out,
        format!("4. activate it with the code it showed a moment ago: {shown}"),
    )?;
    let activated = store
        .activate(SERIAL, &shown, t)
        .map_err(|e| Failure::store(&g.db, e))?;
    say(out, format!("   activated at step {activated}"))?;

    let code = token.generate(t).map_err(Failure::input)?.to_string();
    say(
        out,
        format!(
            "5. {USER} signs in at {} with the code on the token: {code}",
            format_time(t)
        ),
    )?;
    let ctx = crate::commands::ctx()?;
    let outcome = store
        .verify(USER, &code, t, &ctx)
        .map_err(|e| Failure::store(&g.db, e))?;
    let verdict = |o: &mfa_store::VerifyOutcome| match o.denial() {
        None => "approved".to_string(),
        Some(r) => format!("denied: {r}"),
    };
    say(out, format!("   {}", verdict(&outcome)))?;
    if !outcome.is_approved() {
        return Err(Failure::denied("the demo's sign-in was denied"));
    }

    say(out, format!("6. the same code again (a replay): {code}"))?;
    let replay = store
        .verify(USER, &code, t, &ctx)
        .map_err(|e| Failure::store(&g.db, e))?;
    say(out, format!("   {}", verdict(&replay)))?;
    if replay.is_approved() {
        return Err(Failure::input("the replayed code was accepted"));
    }

    let events = store
        .auth_log(
            UnixTime::from_secs(t.secs().saturating_sub(60)),
            UnixTime::from_secs(t.secs() + 1),
        )
        .map_err(|e| Failure::store(&g.db, e))?;
    say(
        out,
        format!(
            "7. the authentication log has {} event(s); see them with",
            events.len()
        ),
    )?;
    say(
        out,
        format!(
            "   mfa --db {} --key-file {} report auth --since {}",
            g.db,
            g.key_file.display(),
            t.secs().saturating_sub(60)
        ),
    )?;
    Ok(())
}
