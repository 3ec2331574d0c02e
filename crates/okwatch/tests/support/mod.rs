//! Helpers shared by the tests that drive the real `okwatch` binary and real client libraries.
// Each test file uses its own subset.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `okwatch --data-dir DATA`.
pub fn okwatch(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_okwatch"));
    command.arg("--data-dir").arg(data);
    command
}

/// Runs `command`, fails the test with its stderr unless it succeeds, returns its stdout.
pub fn run(mut command: Command) -> String {
    let output = command.output().expect("runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A Python in a virtual environment `name` under Cargo's target directory, with `requirement`
/// installed from PyPI (once) so that `import module` works. Without python3 or PyPI the test
/// fails and says so: working with real clients is a promise, not an optional extra.
pub fn python_with(name: &str, requirement: &str, module: &str) -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let python = venv.join("bin/python");
    let importable = |python: &Path| {
        Command::new(python)
            .args(["-c", &format!("import {module}")])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if importable(&python) {
        return python;
    }
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python3 is needed to run the Python clients against okwatch");
    assert!(status.success(), "python3 -m venv failed");
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg(requirement)
        .status()
        .expect("pip runs");
    assert!(
        status.success(),
        "pip install {requirement} failed (is PyPI reachable?)"
    );
    assert!(
        importable(&python),
        "{requirement} installed but {module} does not import"
    );
    python
}

/// This package's directory, looked up when the tests run rather than when they were built: a
/// shared build cache may hand back a test binary compiled in a checkout somewhere else.
pub fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::current_dir().expect("a working directory"))
}

/// Runs the `tests/python` script `script` with `python` and `args`; returns the one JSON value
/// it prints.
pub fn python_json(python: &Path, script: &str, args: &[&str]) -> serde_json::Value {
    let out = run({
        let mut c = Command::new(python);
        c.arg(python_script(script)).args(args);
        c
    });
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// A script in `tests/python`.
pub fn python_script(name: &str) -> PathBuf {
    package_dir().join("tests/python").join(name)
}

/// Generated events (`okwatch generate`, ending at `end`) imported into `data`.
pub fn import_generated(data: &Path, events: u32, seed: u32, end: &str) {
    let file = data.with_extension("ndjson");
    let text = run({
        let mut c = okwatch(data);
        c.args([
            "generate",
            "--events",
            &events.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .args(["--end", end]);
        c
    });
    std::fs::write(&file, text).unwrap();
    run({
        let mut c = okwatch(data);
        c.arg("import").arg(&file);
        c
    });
}

/// A new API token for `okwatch serve` on `data`.
pub fn create_token(data: &Path, name: &str) -> String {
    run({
        let mut c = okwatch(data);
        c.args(["token", "create", "--name", name]);
        c
    })
    .trim()
    .to_string()
}

/// `okwatch serve` on a free port, stopped when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Server {
    pub fn start(data: &Path) -> Server {
        Server::start_with(data, &[])
    }

    /// `okwatch serve` with this configuration (written to `dir`) and these environment
    /// variables set. A configuration must name an org to collect; this one names one that
    /// answers nothing (port 9, discard), so only the rest of the configuration matters.
    pub fn start_with_config(
        data: &Path,
        dir: &Path,
        config: &str,
        env: &[(&str, &str)],
    ) -> Server {
        let path = dir.join("okwatch.toml");
        let text = format!(
            "[[org]]\nname = \"idle\"\nurl = \"http://127.0.0.1:9\"\napi_token_env = \"OKWATCH_TEST_IDLE_TOKEN\"\n\n{config}"
        );
        std::fs::write(&path, text).unwrap();
        let mut env = env.to_vec();
        env.push(("OKWATCH_TEST_IDLE_TOKEN", "unused"));
        Server::start_configured(data, Some(&path), &env)
    }

    /// `okwatch serve` with these environment variables set.
    pub fn start_with(data: &Path, env: &[(&str, &str)]) -> Server {
        Server::start_configured(data, None, env)
    }

    /// `okwatch serve`, with this configuration file when given, and these environment
    /// variables set.
    pub fn start_configured(data: &Path, config: Option<&Path>, env: &[(&str, &str)]) -> Server {
        let mut command = okwatch(data);
        command.args(["serve", "--listen", "127.0.0.1:0"]);
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        Server::spawn(command, env)
    }

    /// `okwatch serve` allowed at most `files` open files (`ulimit -n`).
    pub fn start_with_file_limit(data: &Path, files: u32, env: &[(&str, &str)]) -> Server {
        let mut command = Command::new("sh");
        command
            .args(["-c", "ulimit -n \"$0\" && exec \"$@\""])
            .arg(files.to_string())
            .arg(env!("CARGO_BIN_EXE_okwatch"))
            .arg("--data-dir")
            .arg(data)
            .args(["serve", "--listen", "127.0.0.1:0"]);
        Server::spawn(command, env)
    }

    fn spawn(mut command: Command, env: &[(&str, &str)]) -> Server {
        let mut child = command
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("serve says where it listens").unwrap();
            if let Some(rest) = line.split("API at ").nth(1) {
                break rest.trim_end_matches("/api/v1/logs").to_string();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe; shown when
        // OKWATCH_TEST_SERVER_LOG is set, to see what a server did in a failing test.
        let show = std::env::var_os("OKWATCH_TEST_SERVER_LOG").is_some();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if show {
                    eprintln!("[serve] {line}");
                }
            }
        });
        Server { child, url }
    }
}

impl Server {
    /// Sends SIGTERM (what `systemctl stop` sends) and waits for the server to exit.
    pub fn terminate(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Posts the console's sign-in form as a browser does: the form's page first (its token and
/// cookie), then the form. The answer is the sign-in's own (a client that does not follow
/// redirects sees the session cookie on it).
pub async fn post_sign_in(
    client: &reqwest::Client,
    base: &str,
    name: &str,
    password: &str,
    next: &str,
) -> reqwest::Response {
    let page = client.get(format!("{base}/login")).send().await.unwrap();
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = csrf_of(&page.text().await.unwrap());
    client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie)
        .body(format!(
            "name={name}&password={password}&next={next}&csrf={csrf}"
        ))
        .send()
        .await
        .unwrap()
}

/// The CSRF token a page's forms carry (its sign-out form has one on every page).
pub fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's forms carry the session's CSRF token")
        .to_string()
}

/// Signs `name` in to the console; the session cookie and the CSRF token of its forms.
pub async fn console_session(
    client: &reqwest::Client,
    base: &str,
    name: &str,
    password: &str,
) -> (String, String) {
    let reply = post_sign_in(client, base, name, password, "%2F").await;
    assert_eq!(reply.status(), 303, "{name} signs in");
    let cookie = reply.headers()["set-cookie"].to_str().unwrap();
    let session = cookie.split(';').next().unwrap().to_string();
    let page = client
        .get(format!("{base}/saved"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (session, csrf_of(&page))
}

/// A console page as the signed-in browser of `session` gets it: status and body.
pub async fn console_get(
    client: &reqwest::Client,
    base: &str,
    (session, _): &(String, String),
    path: &str,
) -> (u16, String) {
    let reply = client
        .get(format!("{base}{path}"))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    (reply.status().as_u16(), reply.text().await.unwrap())
}

/// A console form posted by the signed-in browser of `session` (its CSRF token added):
/// status, `Location` (for a redirect) and body.
pub async fn console_post(
    client: &reqwest::Client,
    base: &str,
    (session, csrf): &(String, String),
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let encode = |text: &str| {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let form: Vec<String> = std::iter::once(("csrf", csrf.as_str()))
        .chain(fields.iter().copied())
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect();
    let reply = client
        .post(format!("{base}{path}"))
        .header("cookie", session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.join("&"))
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    let location = reply
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, location, reply.text().await.unwrap())
}

/// A JSON API call as the signed-in browser of `session` (with its CSRF token): status and
/// the JSON answer (`null` when empty).
pub async fn api_call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    (session, csrf): &(String, String),
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut request = client
        .request(method, url)
        .header("cookie", session)
        .header("x-csrf-token", csrf);
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let reply = request.send().await.unwrap();
    let status = reply.status().as_u16();
    let bytes = reply.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// A client as the tests' browser: no redirects followed (the tests look at where the console
/// sends a browser), a 30 s limit per request.
pub fn browser_client() -> reqwest::Client {
    // okwatch's own client set-up installs rustls' crypto provider, which reqwest needs.
    let _ = okwatch_collect::http::client(Duration::from_secs(5));
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// aiosmtpd, a real SMTP server, keeping each message it receives as a file in `maildir/new`.
pub struct Smtp {
    child: std::process::Child,
    /// Where it listens, on 127.0.0.1.
    pub port: u16,
}

impl Smtp {
    /// Starts it, keeping messages under `maildir`.
    pub fn start(maildir: &Path) -> Smtp {
        let python = python_with("smtp-venv", "aiosmtpd==1.4.6", "aiosmtpd");
        let port = free_port();
        let child = std::process::Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not listen"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Smtp { child, port }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
