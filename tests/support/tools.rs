//! The real components the tests run — Powertools for AWS Lambda (Python),
//! `cargo-lambda` and moto from PyPI, dynalite from npm — installed on first use from
//! the pins in `tests/`, so that a newcomer's `cargo test` runs them too.
//!
//! - Python tools: a virtual environment under the target directory
//!   (`target/tmp/tools/python`), from `tests/tools/requirements.txt`.
//! - moto (server mode): a virtual environment of its own (`target/tmp/tools/moto`),
//!   from `tests/moto/requirements.txt`.
//! - dynalite: `npm ci` in `tests/dynalite`, from its `package-lock.json`.
//!
//! Only `python3` and `node`/`npm` themselves must be on the machine. Without them a
//! test prints why it skips, past the harness's capture; under `CI=true` that is a
//! failure. Each test that runs against a real component prints a line starting with
//! [`RAN`], which `.ci/run` counts.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::process::run_bounded;

/// The start of the line a test prints when it ran against a real component.
pub const RAN: &str = "real component:";

/// How long one install may take (pip and npm, from their registries).
const INSTALL: Duration = Duration::from_secs(600);

/// `true` under CI (`CI=true`), where a component that cannot be had fails the test.
pub fn required() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

/// Writes past the harness's output capture.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Says that `test` ran against `component`.
pub fn ran(component: &str, test: &str) {
    say(&format!("{RAN} {component}: {test}"));
}

/// Says why `what` skips (or, under CI, fails with it).
pub fn skip(what: &str, why: &str) {
    if required() {
        panic!("{what} cannot run under CI=true: {why}");
    }
    say(&format!("note: {what} skipped: {why}"));
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The folder the tools go into: the target directory's, shared by every test binary.
fn tools_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tools")
}

/// Holds `name`'s lock in the tools folder while it lives: test binaries (or nextest's
/// processes) that install at the same time take turns.
struct Lock(PathBuf);

impl Lock {
    fn take(name: &str) -> Result<Lock, String> {
        let dir = tools_dir();
        std::fs::create_dir_all(&dir).map_err(|error| format!("{} cannot be made ({error})", dir.display()))?;
        let path = dir.join(format!("{name}.lock"));
        let started = Instant::now();
        loop {
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    // Who holds it, so that a holder killed mid-install (Ctrl-C) does not
                    // keep the others waiting.
                    let _ = std::fs::write(path.join("pid"), std::process::id().to_string());
                    return Ok(Lock(path));
                }
                Err(_) if holder_is_gone(&path) => {
                    let _ = std::fs::remove_dir_all(&path);
                }
                Err(_) if started.elapsed() < INSTALL => std::thread::sleep(Duration::from_millis(250)),
                Err(error) => return Err(format!("{} stayed locked ({error})", path.display())),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether the process that took the lock `path` no longer runs. A lock whose holder has
/// not written its id yet is taken as held.
fn holder_is_gone(path: &Path) -> bool {
    let Ok(pid) = std::fs::read_to_string(path.join("pid")) else {
        return false;
    };
    !Path::new("/proc").join(pid.trim()).exists()
}

/// Runs an install step, bounded in time.
fn install(what: &str, command: Command) -> Result<(), String> {
    say(&format!("note: installing {what} for the tests (once)"));
    let (status, stdout, stderr) = run_bounded(what, command, INSTALL);
    if status.success() {
        Ok(())
    } else {
        Err(format!("installing {what} failed ({status}): {stdout}{stderr}"))
    }
}

/// The Python tools: the virtual environment's `python3` (with aws-lambda-powertools)
/// and its `cargo-lambda`.
#[derive(Debug)]
pub struct PythonTools {
    /// The interpreter of the environment.
    pub python: PathBuf,
    /// `cargo-lambda`, as pip installed it.
    pub cargo_lambda: PathBuf,
}

/// The Python tools, installed on first use, or why they cannot be.
pub fn python() -> Result<&'static PythonTools, String> {
    static TOOLS: OnceLock<Result<PythonTools, String>> = OnceLock::new();
    TOOLS.get_or_init(install_python).as_ref().map_err(Clone::clone)
}

fn install_python() -> Result<PythonTools, String> {
    let requirements = manifest_dir().join("tests/tools/requirements.txt");
    let pins =
        std::fs::read_to_string(&requirements).map_err(|error| format!("{}: {error}", requirements.display()))?;
    let powertools =
        std::fs::read_to_string(manifest_dir().join("tests/powertools/requirements.txt")).unwrap_or_default();
    let venv = tools_dir().join("python");
    let tools = PythonTools {
        python: venv.join("bin/python3"),
        cargo_lambda: venv.join("bin/cargo-lambda"),
    };
    // The pins the environment was made from: a change of pins makes it anew.
    venv_from(
        &venv,
        &requirements,
        &format!("{pins}{powertools}"),
        "python",
        "the Python tools",
    )?;
    Ok(tools)
}

/// Makes the virtual environment `venv` from `requirements` with pip, unless it was
/// made from `wanted` (the pins, recorded in it) already; under the lock `lock`, so that
/// test binaries running at once install it once.
fn venv_from(venv: &Path, requirements: &Path, wanted: &str, lock: &str, what: &str) -> Result<(), String> {
    let stamp = venv.join("installed-from.txt");
    if std::fs::read_to_string(&stamp).is_ok_and(|installed| installed == wanted) {
        return Ok(());
    }
    let _lock = Lock::take(lock)?;
    if std::fs::read_to_string(&stamp).is_ok_and(|installed| installed == wanted) {
        return Ok(()); // another process installed it meanwhile
    }
    match Command::new("python3").arg("--version").output() {
        Ok(output) if output.status.success() => {}
        _ => return Err("python3 is not on PATH".to_owned()),
    }
    let _ = std::fs::remove_dir_all(venv);
    let mut make = Command::new("python3");
    make.args(["-m", "venv"]).arg(venv);
    install(&format!("a Python virtual environment for {what}"), make)?;
    let mut pip = Command::new(venv.join("bin/python3"));
    pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(requirements);
    install(&format!("{what} from {}", requirements.display()), pip)?;
    std::fs::write(&stamp, wanted).map_err(|error| format!("{}: {error}", stamp.display()))
}

/// moto's `moto_server`, installed on first use in a virtual environment of its own,
/// or why it cannot be.
pub fn moto() -> Result<&'static Path, String> {
    static SERVER: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    SERVER.get_or_init(install_moto).as_deref().map_err(Clone::clone)
}

fn install_moto() -> Result<PathBuf, String> {
    let requirements = manifest_dir().join("tests/moto/requirements.txt");
    let pins =
        std::fs::read_to_string(&requirements).map_err(|error| format!("{}: {error}", requirements.display()))?;
    let venv = tools_dir().join("moto");
    venv_from(&venv, &requirements, &pins, "moto", "moto")?;
    Ok(venv.join("bin/moto_server"))
}

/// The folder of dynalite (`tests/dynalite`), with its npm package installed on first
/// use, or why it cannot be.
pub fn dynalite() -> Result<&'static Path, String> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(install_dynalite).as_deref().map_err(Clone::clone)
}

fn install_dynalite() -> Result<PathBuf, String> {
    let dir = manifest_dir().join("tests/dynalite");
    let installed = |dir: &Path| dir.join("node_modules/dynalite/package.json").exists();
    if installed(&dir) {
        return Ok(dir);
    }
    let _lock = Lock::take("dynalite")?;
    if installed(&dir) {
        return Ok(dir);
    }
    match Command::new("node").arg("--version").output() {
        Ok(output) if output.status.success() => {}
        _ => return Err("node is not on PATH".to_owned()),
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund", "--prefix"]).arg(&dir);
    install("dynalite (npm ci --prefix tests/dynalite)", npm)?;
    Ok(dir)
}
