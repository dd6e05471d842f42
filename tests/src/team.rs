//! The cast of the accounts and identity suites: the first admin, signed in
//! from 127.0.0.1, and a member who accepted an invitation and set a
//! password. One place, so both suites start from the same team.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::{TestApp, body, id, session_cookie};

/// The member's email and password.
pub const MEMBER: &str = "mia@example.com";
pub const PASSWORD: &str = "a long member passphrase";

/// The first admin signed in: their session cookie and id.
async fn signed_in_admin(app: &TestApp) -> (String, String) {
    let admin = app.session_cookie().await;
    let session = app.browse(Method::GET, "/auth/session", &admin, None).await;
    let admin_id = body(session).await["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (admin, admin_id)
}

pub struct Team {
    pub app: TestApp,
    /// The admin's session cookie.
    pub admin: String,
    pub admin_id: String,
    pub member_id: String,
    /// The member's session cookie, from setting their password.
    pub member: String,
    /// The member's invitation token, used up when they set their password.
    pub used_link: String,
}

impl Team {
    pub async fn new() -> Self {
        Self::with(TestApp::spawn().await).await
    }

    /// Another instance of the team's app (another pod) on the same
    /// database, with the same secrets.
    pub async fn another_instance(&self) -> TestApp {
        let app = &self.app;
        TestApp::spawn_with(|o| {
            o.set("database_url", app.database_url.clone())
                .set("session_secret", app.session_secret.clone())
                .set("ui_password", app.ui_password.clone())
                .set("api_token", app.api_token.clone());
        })
        .await
    }

    /// The team in an app started with options of the test's choosing.
    pub async fn with(app: TestApp) -> Self {
        let (admin, admin_id) = signed_in_admin(&app).await;
        let user = app.create_user(MEMBER).await;
        assert_eq!(
            (user["access"].as_str(), user["active"].as_bool()),
            (Some("member"), Some(true)),
            "a new person is an active member"
        );
        let member_id = id(&user).to_owned();
        let used_link = app.invite(&admin, &member_id).await;
        let member = session_cookie(app.set_password(&used_link, PASSWORD).await);
        Team {
            app,
            admin,
            admin_id,
            member_id,
            member,
            used_link,
        }
    }

    /// The first admin alone, in `app` (no member: `member_id`, `member`
    /// and `used_link` are empty), as an empty workspace has them.
    pub async fn with_admin_only(app: TestApp) -> Self {
        let (admin, admin_id) = signed_in_admin(&app).await;
        Team {
            app,
            admin,
            admin_id,
            member_id: String::new(),
            member: String::new(),
            used_link: String::new(),
        }
    }

    pub async fn as_admin(&self, method: Method, path: &str, json: Option<&Value>) -> Response {
        self.app.browse(method, path, &self.admin, json).await
    }

    pub async fn as_member(&self, method: Method, path: &str, json: Option<&Value>) -> Response {
        self.app.browse(method, path, &self.member, json).await
    }

    /// A task assigned to `assignee`, created by the admin.
    pub async fn task_for(&self, assignee: &str, status: &str) -> String {
        let new = json!({"title": "T", "assignee_id": assignee, "status": status});
        let created = self.as_admin(Method::POST, "/api/tasks", Some(&new)).await;
        assert_eq!(created.status(), StatusCode::CREATED);
        id(&body(created).await).to_owned()
    }

    /// A new personal API token of the member's, as created (with its secret).
    pub async fn member_token(&self) -> Value {
        let name = json!({"name": "ci", "password": PASSWORD});
        let created = self
            .as_member(Method::POST, "/auth/tokens", Some(&name))
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        body(created).await
    }

    /// `method path` as a program of the member's would send it: straight
    /// to a service (no gateway), with a new personal API token of theirs.
    pub async fn as_member_program(&self, method: Method, path: &str) -> Response {
        let token = self.member_token().await["token"]
            .as_str()
            .unwrap()
            .to_owned();
        self.app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
    }

    /// A `users` row's `(access, active)`, straight from the database.
    pub async fn stored_user(&self, id: &str) -> (String, bool) {
        let sql = "SELECT access, active FROM users WHERE id = $1::text::uuid";
        let row = self.app.row(sql, id).await;
        (row.get(0), row.get(1))
    }

    /// A throttle key's failure count, straight from the database.
    pub async fn failures(&self, key: &str) -> Option<i32> {
        self.app.sign_in_failures(key).await.map(|(count, _)| count)
    }

    /// Makes every current wait of the throttle an hour longer, so that it
    /// cannot run out during the checks that follow, however slow the machine.
    pub async fn prolong(&self) {
        self.app
            .db()
            .await
            .execute(
                "UPDATE sign_in_failures SET blocked_until = blocked_until + interval '1 hour' \
                 WHERE blocked_until IS NOT NULL",
                &[],
            )
            .await
            .unwrap();
    }

    /// Lets every wait of the throttle run out (and a second more).
    pub async fn waits_end(&self) {
        self.app
            .db()
            .await
            .execute(
                "UPDATE sign_in_failures SET blocked_until = (now() AT TIME ZONE 'utc') \
                 - interval '1 second' WHERE blocked_until IS NOT NULL",
                &[],
            )
            .await
            .unwrap();
    }
}
