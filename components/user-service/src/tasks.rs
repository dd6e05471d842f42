//! What user-service needs to know from task-service: a user's unfinished tasks.

use mth_shared::internal::Service;
use mth_shared::{ApiError, RequestContext};
use uuid::Uuid;

/// How many of a user's tasks are in each unfinished status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenTasks {
    pub todo: i64,
    pub in_progress: i64,
}

impl OpenTasks {
    pub fn total(&self) -> i64 {
        self.todo + self.in_progress
    }

    /// "2 unfinished tasks (1 to do, 1 in progress)".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.todo > 0 {
            parts.push(format!("{} to do", self.todo));
        }
        if self.in_progress > 0 {
            parts.push(format!("{} in progress", self.in_progress));
        }
        let n = self.total();
        let noun = if n == 1 { "task" } else { "tasks" };
        format!("{n} unfinished {noun} ({})", parts.join(", "))
    }
}

/// Asks task-service; any failure to get a clear answer is a 503.
pub fn open_tasks(ctx: &RequestContext, user: Uuid) -> Result<OpenTasks, ApiError> {
    let service = Service::new("task service", "task_service_url", ctx)?;
    let (status, body) = service.get_json(&format!("/tasks/stats?assignee_id={user}"))?;
    let count = |key: &str| body["counts"][key].as_i64();
    match (status, count("todo"), count("in_progress")) {
        (200, Some(todo), Some(in_progress)) => Ok(OpenTasks { todo, in_progress }),
        _ => Err(service.unavailable().caused_by(format_args!(
            "task service answered {status} {body} to a stats request"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_counts_in_words() {
        let open = OpenTasks {
            todo: 1,
            in_progress: 1,
        };
        assert_eq!(
            open.describe(),
            "2 unfinished tasks (1 to do, 1 in progress)"
        );
        let open = OpenTasks {
            todo: 0,
            in_progress: 1,
        };
        assert_eq!(open.describe(), "1 unfinished task (1 in progress)");
    }
}
