//! The Kubernetes database scripts, run for real against a throwaway
//! PostgreSQL with the very files the cluster runs: the migration Job's role
//! bootstrap (k8s/base/database/app-role.sql), the backup CronJob's
//! backup.sh, and restore.sh of the documented restore procedure
//! (docs/deploy.md, "Backups and restore").

use std::path::Path;
use std::process::Command;

use pg_harness::{PgCluster, apply_migrations, repo_root};

fn sh(script: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = Command::new("sh");
    command.arg(repo_root().join(script)).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output().expect("sh");
    assert!(
        out.status.success(),
        "{script} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `psql -tA -c sql` as the given URL's user; Err(stderr) when it fails.
fn psql(url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args([
            "--no-psqlrc",
            "-tA",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
            url,
        ])
        .output()
        .expect("psql");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn dumps(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What the migration Job does: the role (from a password file), then migrate.sh.
/// Runs restore.sh of `dump` into the database at `url`; the user the dump
/// holds is back.
fn restore_and_check(url: &str, dump: &Path) {
    sh(
        "k8s/base/backup/restore.sh",
        &[url, dump.to_str().unwrap()],
        &[],
    );
    assert_eq!(
        psql(url, "SELECT email FROM users").unwrap(),
        "keep@example.com"
    );
}

fn bootstrap(owner_url: &str, password_file: &Path) {
    let out = Command::new("psql")
        .args(["--quiet", "--no-psqlrc", "-f"])
        .arg(repo_root().join("k8s/base/database/app-role.sql"))
        .arg(owner_url)
        .env("APP_PASSWORD_FILE", password_file)
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "app-role.sql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    apply_migrations(owner_url);
}

#[test]
fn role_bootstrap_backup_and_restore_work_as_documented() {
    let cluster = PgCluster::start();
    cluster.psql("postgres", "CREATE DATABASE microtaskhub");
    let owner = cluster.url("microtaskhub");
    let work = tempfile::tempdir().unwrap();
    let password_file = work.path().join("app_password");
    std::fs::write(&password_file, "0123456789abcdef0123456789abcdef").unwrap();

    // The bootstrap is idempotent: the Job runs it on every apply.
    bootstrap(&owner, &password_file);
    bootstrap(&owner, &password_file);
    let app = owner.replace("postgres://postgres@", "postgres://microtaskhub_app@");
    assert_eq!(
        psql(
            &owner,
            "SELECT rolcanlogin AND NOT rolsuper AND NOT rolcreaterole AND NOT rolcreatedb \
             AND rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'microtaskhub_app'"
        )
        .unwrap(),
        "t"
    );

    // The app role reads and writes data, and cannot touch the schema.
    psql(
        &app,
        "INSERT INTO users (email, full_name) VALUES ('keep@example.com', 'Keep')",
    )
    .unwrap();
    let refused = psql(&app, "DROP TABLE users").unwrap_err();
    assert!(refused.contains("must be owner"), "{refused}");

    // Backups: one dump per run, only the newest KEEP survive.
    let backups = work.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let out = sh(
        "k8s/base/backup/backup.sh",
        &[&owner, backups.to_str().unwrap(), "2"],
        &[],
    );
    assert!(out.contains("wrote"), "{out}");
    let first = dumps(&backups);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].starts_with("microtaskhub-") && first[0].ends_with(".dump"));
    // Later dumps (the name has one-second resolution).
    for _ in 0..2 {
        std::thread::sleep(std::time::Duration::from_millis(1100));
        sh(
            "k8s/base/backup/backup.sh",
            &[&owner, backups.to_str().unwrap(), "2"],
            &[],
        );
    }
    let kept = dumps(&backups);
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(!kept.contains(&first[0]), "the oldest dump was removed");
    let newest = backups.join(kept.last().unwrap());

    // Disaster: data lost. Restore the newest dump over the damaged database.
    psql(&owner, "DELETE FROM users").unwrap();
    psql(&owner, "DROP TABLE schema_migrations").unwrap();
    restore_and_check(&owner, &newest);
    assert_eq!(
        psql(&owner, "SELECT count(*) FROM schema_migrations").unwrap(),
        std::fs::read_dir(repo_root().join("migrations"))
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".sql"))
            .count()
            .to_string()
    );
    // The restored tables keep the app role's privileges (and limits).
    psql(
        &app,
        "INSERT INTO users (email, full_name) VALUES ('after@example.com', 'After')",
    )
    .unwrap();
    assert!(psql(&app, "DROP TABLE tasks").is_err());

    // Restore into a new, empty database (a lost volume) works too.
    cluster.psql("postgres", "CREATE DATABASE restored");
    let fresh = cluster.url("restored");
    restore_and_check(&fresh, &newest);
}
