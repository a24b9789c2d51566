-- postgrestd at run time: each case names the escape a body attempts through std and
-- shows that std refuses it (Err(Unsupported), or a panic that becomes an ERROR), and
-- that the backend and the session go on. These bodies pass the trust checks: only
-- postgrestd stands between them and the OS. Runs as the ordinary role from trust_checks.

-- Where the server's files and socket are (the attacker guesses; we look them up).
SELECT current_setting('data_directory') AS datadir,
       current_setting('unix_socket_directories') || '/.s.PGSQL.' || current_setting('port') AS socket
\gset
SET ROLE plrust_attacker;

-- Attack: read the server's files.
CREATE FUNCTION escape_read_file(path text) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(match std::fs::read_to_string(path) {
        Ok(s) => format!("READ {} bytes", s.len()),
        Err(e) => format!("refused ({:?}): {e}", e.kind()),
    }))
$$;
SELECT escape_read_file('/etc/passwd');
SELECT escape_read_file(:'datadir' || '/postgresql.auto.conf');
SELECT escape_read_file(:'datadir' || '/global/pg_control');

-- Attack: the same through an alias, an extension trait and a local macro.
CREATE FUNCTION escape_fs_alias() RETURNS text LANGUAGE plrust AS $$
    use std::fs as f;
    Ok(Some(format!("{:?}", f::read("/etc/passwd").map_err(|e| e.to_string()))))
$$;
SELECT escape_fs_alias();
CREATE FUNCTION escape_fs_unix_ext() RETURNS text LANGUAGE plrust AS $$
    use std::os::unix::fs::OpenOptionsExt;
    let r = std::fs::OpenOptions::new().read(true).custom_flags(0o400000).open("/etc/passwd");
    Ok(Some(format!("{:?}", r.map(|_| ()).map_err(|e| e.to_string()))))
$$;
SELECT escape_fs_unix_ext();
CREATE FUNCTION escape_fs_macro() RETURNS text LANGUAGE plrust AS $$
    macro_rules! slurp { ($p:expr) => { std::fs::read_to_string($p) } }
    Ok(Some(format!("{:?}", slurp!("/etc/passwd").map_err(|e| e.to_string()))))
$$;
SELECT escape_fs_macro();

-- Attack: write or delete files.
CREATE FUNCTION escape_write_file() RETURNS text LANGUAGE plrust AS $$
    let w = std::fs::write("/tmp/plrust-escape", b"owned").map_err(|e| e.to_string());
    let d = std::fs::remove_file("/tmp/plrust-escape").map_err(|e| e.to_string());
    let m = std::fs::create_dir_all("/tmp/plrust-escape-dir").map_err(|e| e.to_string());
    Ok(Some(format!("{w:?} / {d:?} / {m:?}")))
$$;
SELECT escape_write_file();

-- Attack: list directories, follow /proc.
CREATE FUNCTION escape_list_dir() RETURNS text LANGUAGE plrust AS $$
    let r = std::fs::read_dir("/proc/self/fd").map(|d| d.count()).map_err(|e| e.to_string());
    let x = std::fs::read_link("/proc/self/exe").map_err(|e| e.to_string());
    Ok(Some(format!("{r:?} / {x:?} / exists: {}", std::path::Path::new("/").exists())))
$$;
SELECT escape_list_dir();

-- Attack: connect to the server itself, bind a port, resolve a name.
CREATE FUNCTION escape_network(port int) RETURNS text STRICT LANGUAGE plrust AS $$
    let c = std::net::TcpStream::connect(("127.0.0.1", port as u16)).map(|_| ()).map_err(|e| e.to_string());
    let b = std::net::TcpListener::bind("127.0.0.1:0").map(|_| ()).map_err(|e| e.to_string());
    let u = std::net::UdpSocket::bind("127.0.0.1:0").map(|_| ()).map_err(|e| e.to_string());
    let d = std::net::ToSocketAddrs::to_socket_addrs("localhost:5432").map(|_| ()).map_err(|e| e.to_string());
    let s = std::os::unix::net::UnixStream::connect("/var/run/postgresql/.s.PGSQL.5432").map(|_| ()).map_err(|e| e.to_string());
    Ok(Some(format!("{c:?}\n{b:?}\n{u:?}\n{d:?}\n{s:?}")))
$$;
SELECT escape_network(current_setting('port')::int);
-- Attack: the server's own Unix socket.
CREATE FUNCTION escape_unix_socket(path text) RETURNS text STRICT LANGUAGE plrust AS $$
    let r = std::os::unix::net::UnixStream::connect(path);
    Ok(Some(format!("{:?}", r.map(|_| ()).map_err(|e| e.to_string()))))
$$;
SELECT escape_unix_socket(:'socket');

-- Attack: run a program.
CREATE FUNCTION escape_spawn() RETURNS text LANGUAGE plrust AS $$
    let o = std::process::Command::new("/bin/sh").arg("-c").arg("id").output();
    Ok(Some(match o {
        Ok(out) => format!("RAN: {}", String::from_utf8_lossy(&out.stdout)),
        Err(e) => format!("refused: {e}"),
    }))
$$;
SELECT escape_spawn();

-- Attack: end the backend with exit/abort. Both panic instead: an ERROR, and the
-- session (the same backend) goes on.
SELECT pg_backend_pid() AS pid \gset
CREATE FUNCTION escape_exit() RETURNS int LANGUAGE plrust AS $$ std::process::exit(0) $$;
SELECT escape_exit();
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION escape_abort() RETURNS int LANGUAGE plrust AS $$ std::process::abort() $$;
SELECT escape_abort();
\echo :LAST_ERROR_SQLSTATE
SELECT pg_backend_pid() = :pid AS same_backend;

-- Attack: read the server's environment and process state.
CREATE FUNCTION escape_env() RETURNS text LANGUAGE plrust AS $$
    Ok(Some(format!(
        "HOME={:?} PATH={:?} PGDATA={:?} vars={} args={} cwd={:?} home={:?} temp={:?}",
        std::env::var("HOME").ok(),
        std::env::var("PATH").ok(),
        std::env::var_os("PGDATA"),
        std::env::vars_os().count(),
        std::env::args_os().count(),
        std::env::current_dir().map_err(|e| e.to_string()),
        std::env::home_dir(),
        std::env::temp_dir(),
    )))
$$;
SELECT escape_env();
CREATE FUNCTION escape_set_env() RETURNS int LANGUAGE plrust AS $$
    std::env::set_current_dir("/").map_err(|e| e.to_string())?;
    Ok(None)
$$;
SELECT escape_set_env();
\echo :LAST_ERROR_SQLSTATE

-- Attack: make new file descriptors (a pipe). (Naming stdin/stdout/stderr is refused by
-- the trust checks; postgrestd refuses them too, see postgrestd/tests/probe.rs.)
CREATE FUNCTION escape_pipe() RETURNS text LANGUAGE plrust AS $$
    Ok(Some(match std::io::pipe() {
        Ok(_) => "PIPE".to_string(),
        Err(e) => format!("refused: {e}"),
    }))
$$;
SELECT escape_pipe();

-- Attack: start a thread inside the backend.
CREATE FUNCTION escape_thread() RETURNS text LANGUAGE plrust AS $$
    Ok(Some(match std::thread::Builder::new().spawn(|| 1) {
        Ok(_) => "SPAWNED".to_string(),
        Err(e) => format!("refused: {e}"),
    }))
$$;
SELECT escape_thread();
CREATE FUNCTION escape_thread_spawn() RETURNS int LANGUAGE plrust AS $$
    Ok(Some(std::thread::spawn(|| 1).join().unwrap()))
$$;
SELECT escape_thread_spawn();
\echo :LAST_ERROR_SQLSTATE

-- Attack: get a raw pointer into the server's memory, or raw PostgreSQL internals, from
-- the trusted API (`pgrx` in a body is plrust-trusted-pgrx: no pointers, no pg_sys).
CREATE FUNCTION escape_raw_pointer(a int[]) RETURNS int8 STRICT LANGUAGE plrust AS $$
    let p = a.into_array_type();
    Ok(Some(p as usize as i64))
$$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION escape_pg_sys() RETURNS int8 LANGUAGE plrust AS $$
    Ok(Some(pgrx::pg_sys::MyProcPid as i64))
$$;
\echo :LAST_ERROR_SQLSTATE

-- Time and randomness remain available.
CREATE FUNCTION still_works() RETURNS bool LANGUAGE plrust AS $$
    let t = std::time::Instant::now();
    let mut m = std::collections::HashMap::new();
    m.insert(1, std::time::SystemTime::now());
    Ok(Some(t.elapsed().as_secs() < 60 && m.len() == 1))
$$;
SELECT still_works();
SELECT 1 AS session_goes_on;
RESET ROLE;
