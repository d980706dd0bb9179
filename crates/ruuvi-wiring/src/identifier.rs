//! The app's identifier names its folders (and its keychain service), and moving the folders
//! of an installation made under an earlier identifier. Until 0.1 the identifier was
//! `com.ruuvidesk.app`; it ends in `.app`, which clashes with macOS bundle naming. Both faces
//! call [`adopt`] before anything opens a file in the folder; the keychain entries move on
//! their own when first read (`ruuvi_secrets::Keychain`).

use std::path::{Path, PathBuf};

pub use ruuvi_secrets::{DEFAULT_SERVICE as IDENTIFIER, EARLIER_SERVICES as EARLIER_IDENTIFIERS};

/// What [`adopt`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adoption {
    /// Nothing there yet (a new installation).
    Fresh,
    /// The folder of the current identifier exists (and no earlier one).
    Current,
    /// The earlier folder was renamed to the current one.
    Moved { from: PathBuf },
    /// Both exist: the current one is used, the earlier one left alone (the user may want
    /// something from it; nothing is merged or deleted).
    BothExist { earlier: PathBuf },
    /// The earlier folder could not be renamed (on Windows a file that another program holds
    /// open refuses it): it is used as it is this time, so nothing is lost; the next start
    /// tries again.
    KeptEarlier { at: PathBuf, reason: String },
}

/// The folder for `parent` (a platform folder such as the user's data folder): `<parent>/<IDENTIFIER>`,
/// after moving `<parent>/<earlier identifier>` there when only that one exists.
pub fn adopt(parent: &Path) -> (PathBuf, Adoption) {
    adopt_with(parent, |from, to| std::fs::rename(from, to))
}

fn adopt_with(
    parent: &Path,
    rename: impl Fn(&Path, &Path) -> std::io::Result<()>,
) -> (PathBuf, Adoption) {
    let current = parent.join(IDENTIFIER);
    let earlier = EARLIER_IDENTIFIERS
        .iter()
        .map(|id| parent.join(id))
        .find(|p| p.is_dir());
    match (current.exists(), earlier) {
        (true, Some(earlier)) => (current, Adoption::BothExist { earlier }),
        (true, None) => (current, Adoption::Current),
        (false, None) => (current, Adoption::Fresh),
        (false, Some(earlier)) => match rename(&earlier, &current) {
            Ok(()) => (current, Adoption::Moved { from: earlier }),
            Err(e) => (
                earlier.clone(),
                Adoption::KeptEarlier {
                    at: earlier,
                    reason: e.to_string(),
                },
            ),
        },
    }
}

/// [`adopt`] for each of an app's folders (data, local data, logs: any path with a component
/// equal to [`IDENTIFIER`]); gives each folder as it is to be used now, and what happened.
/// On Linux these are one folder; on Windows the roaming and the local one; on macOS
/// `Application Support` and `Logs`.
pub fn adopt_all(app_dirs: &[PathBuf]) -> (Vec<PathBuf>, Vec<Adoption>) {
    let mut done: Vec<(PathBuf, PathBuf, Adoption)> = Vec::new();
    let mut used = Vec::new();
    for dir in app_dirs {
        // `<parent>/<IDENTIFIER>/<rest>`
        let mut parent = PathBuf::new();
        let mut rest: Option<PathBuf> = None;
        for c in dir.components() {
            match rest.as_mut() {
                Some(rest) => rest.push(c),
                None if c.as_os_str() == IDENTIFIER => rest = Some(PathBuf::new()),
                None => parent.push(c),
            }
        }
        let Some(rest) = rest else {
            used.push(dir.clone());
            continue;
        };
        let base = match done.iter().find(|(p, _, _)| *p == parent) {
            Some((_, base, _)) => base.clone(),
            None => {
                let (base, what) = adopt(&parent);
                done.push((parent, base.clone(), what));
                base
            }
        };
        used.push(if rest.as_os_str().is_empty() {
            base
        } else {
            base.join(rest)
        });
    }
    (used, done.into_iter().map(|(_, _, what)| what).collect())
}

/// `ruuvictl`'s folders when no `--data-dir` is given: the ones Tauri gives the app
/// (`app_data_dir`, `app_local_data_dir`, `app_log_dir`), an earlier identifier's moved there
/// first.
pub struct DefaultFolders {
    /// Settings, gateways, certificates: `%APPDATA%\<id>` (roams with a Windows profile),
    /// `~/Library/Application Support/<id>`, `~/.local/share/<id>`.
    pub data: PathBuf,
    /// The observations database: `%LOCALAPPDATA%\<id>` on Windows (a year of history must
    /// not be copied to a server at every sign-in), else the same folder as `data`.
    pub local: PathBuf,
    /// `%LOCALAPPDATA%\<id>\logs`, `~/Library/Logs/<id>`, `~/.local/share/<id>/logs`.
    pub logs: PathBuf,
    pub adoptions: Vec<Adoption>,
}

impl DefaultFolders {
    /// `None` when the platform names no data folder (no home directory).
    pub fn find() -> Option<Self> {
        let data = dirs::data_dir()?.join(IDENTIFIER);
        let local = dirs::data_local_dir()?.join(IDENTIFIER);
        #[cfg(target_os = "macos")]
        let logs = dirs::home_dir()?.join("Library/Logs").join(IDENTIFIER);
        #[cfg(not(target_os = "macos"))]
        let logs = local.join("logs");
        let (mut used, adoptions) = adopt_all(&[data, local, logs]);
        let logs = used.pop()?;
        let local = used.pop()?;
        let data = used.pop()?;
        Some(Self {
            data,
            local,
            logs,
            adoptions,
        })
    }
}

/// The observations database's file name (with SQLite's `-wal` and `-shm` beside it).
pub const DATABASE: &str = "observations.sqlite";

/// The folder whose [`DATABASE`] to use, given the data and the local folder: `local`, after
/// moving a database kept in `data` (as before the local folder was used) when `local` has
/// none. When the move fails (a file held open) the database stays and is used where it is;
/// the note says so.
pub fn database_folder(data: &Path, local: &Path) -> (PathBuf, Option<String>) {
    let kept = data.join(DATABASE);
    if data == local || !kept.is_file() || local.join(DATABASE).exists() {
        return (local.to_path_buf(), None);
    }
    let moved = std::fs::create_dir_all(local).and_then(|()| {
        // The write-ahead log first: a database file without its log would lose what the log
        // holds; the log without the file is ignored, and the file is moved right after.
        for suffix in ["-wal", "-shm", ""] {
            let from = data.join(format!("{DATABASE}{suffix}"));
            if from.exists() {
                std::fs::rename(&from, local.join(format!("{DATABASE}{suffix}")))?;
            }
        }
        Ok(())
    });
    match moved {
        Ok(()) => (
            local.to_path_buf(),
            Some(format!("moved {} to {}", kept.display(), local.display())),
        ),
        Err(e) => {
            // Put back what moved, so the database is whole in one place.
            for suffix in ["-wal", "-shm"] {
                let there = local.join(format!("{DATABASE}{suffix}"));
                if there.exists() {
                    let _ = std::fs::rename(&there, data.join(format!("{DATABASE}{suffix}")));
                }
            }
            (
                data.to_path_buf(),
                Some(format!(
                    "could not move {} to {} ({e}): using it where it is",
                    kept.display(),
                    local.display()
                )),
            )
        }
    }
}

impl Adoption {
    /// One line for the log when something other than the usual happened.
    pub fn note(&self) -> Option<String> {
        match self {
            Adoption::Fresh | Adoption::Current => None,
            Adoption::Moved { from } => Some(format!(
                "moved {} to {IDENTIFIER} (the app's new identifier)",
                from.display()
            )),
            Adoption::BothExist { earlier } => Some(format!(
                "{} is left as it is: the {IDENTIFIER} folder next to it is used",
                earlier.display()
            )),
            Adoption::KeptEarlier { at, reason } => Some(format!(
                "could not move {} to {IDENTIFIER} ({reason}): using it where it is; \
                 the next start tries again",
                at.display()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(test: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("ruuvi-identifier-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn earlier_install(parent: &Path) -> PathBuf {
        let old = parent.join("com.ruuvidesk.app");
        std::fs::create_dir_all(old.join("pki/clients")).unwrap();
        std::fs::write(old.join("pki/ca.pem"), "-----BEGIN CERTIFICATE-----").unwrap();
        std::fs::write(old.join("observations.sqlite"), b"a year of history").unwrap();
        old
    }

    #[test]
    fn an_earlier_installation_is_moved_whole() {
        let parent = scratch("moved");
        let old = earlier_install(&parent);
        let (dir, what) = adopt(&parent);
        assert_eq!(dir, parent.join(IDENTIFIER));
        assert_eq!(what, Adoption::Moved { from: old.clone() });
        assert!(!old.exists());
        assert_eq!(
            std::fs::read(dir.join("observations.sqlite")).unwrap(),
            b"a year of history"
        );
        assert!(dir.join("pki/ca.pem").is_file() && dir.join("pki/clients").is_dir());
        // The next start: nothing more to do.
        assert_eq!(adopt(&parent), (dir, Adoption::Current));
        std::fs::remove_dir_all(&parent).unwrap();
    }

    #[test]
    fn a_new_installation_or_both_folders_move_nothing() {
        let parent = scratch("fresh");
        assert_eq!(adopt(&parent), (parent.join(IDENTIFIER), Adoption::Fresh));
        let old = earlier_install(&parent);
        std::fs::create_dir_all(parent.join(IDENTIFIER)).unwrap();
        let (dir, what) = adopt(&parent);
        assert_eq!(dir, parent.join(IDENTIFIER));
        assert_eq!(
            what,
            Adoption::BothExist {
                earlier: old.clone()
            }
        );
        assert!(old.join("observations.sqlite").is_file(), "left alone");
        std::fs::remove_dir_all(&parent).unwrap();
    }

    #[test]
    fn a_folder_that_cannot_be_moved_is_used_where_it_is() {
        let parent = scratch("held");
        let old = earlier_install(&parent);
        let (dir, what) = adopt_with(&parent, |_, _| {
            Err(std::io::Error::other("The process cannot access the file"))
        });
        assert_eq!(dir, old);
        assert!(matches!(&what, Adoption::KeptEarlier { at, .. } if *at == old));
        assert!(what.note().unwrap().contains("next start tries again"));
        assert!(dir.join("observations.sqlite").is_file());
        std::fs::remove_dir_all(&parent).unwrap();
    }

    #[test]
    fn every_app_folder_is_adopted_once_per_parent() {
        let root = scratch("all");
        let (roaming, local) = (root.join("Roaming"), root.join("Local"));
        earlier_install(&roaming);
        std::fs::create_dir_all(local.join("com.ruuvidesk.app/logs")).unwrap();
        std::fs::write(local.join("com.ruuvidesk.app/logs/ruuvi-desk.log"), "x").unwrap();
        let (used, what) = adopt_all(&[
            roaming.join(IDENTIFIER),
            local.join(IDENTIFIER),
            local.join(IDENTIFIER).join("logs"),
            root.join("elsewhere"),
        ]);
        assert_eq!(
            used,
            [
                roaming.join(IDENTIFIER),
                local.join(IDENTIFIER),
                local.join(IDENTIFIER).join("logs"),
                root.join("elsewhere")
            ]
        );
        assert_eq!(what.len(), 2);
        assert!(what.iter().all(|w| matches!(w, Adoption::Moved { .. })));
        assert!(local.join(IDENTIFIER).join("logs/ruuvi-desk.log").is_file());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_database_in_the_data_folder_moves_to_the_local_one_with_its_log() {
        let root = scratch("database");
        let (data, local) = (root.join("Roaming/id"), root.join("Local/id"));
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join(DATABASE), "a year of history").unwrap();
        std::fs::write(data.join("observations.sqlite-wal"), "the last minutes").unwrap();
        std::fs::write(data.join("app.json"), "{}").unwrap();
        let (dir, note) = database_folder(&data, &local);
        assert_eq!(dir, local);
        assert!(note.unwrap().contains("moved"));
        assert_eq!(
            std::fs::read_to_string(local.join(DATABASE)).unwrap(),
            "a year of history"
        );
        assert!(local.join("observations.sqlite-wal").is_file());
        assert!(!data.join(DATABASE).exists() && data.join("app.json").is_file());
        // Done once: nothing more to move; one folder for both: nothing to do.
        assert_eq!(database_folder(&data, &local), (local.clone(), None));
        assert_eq!(database_folder(&data, &data), (data.clone(), None));
        // Both have one: the local one is used, the other left alone.
        std::fs::write(data.join(DATABASE), "older").unwrap();
        assert_eq!(database_folder(&data, &local), (local.clone(), None));
        assert!(data.join(DATABASE).is_file());
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// The identifier the bundler, Tauri's folders and the keychain use is one and the same.
    #[test]
    fn tauri_conf_uses_this_identifier() {
        let conf = include_str!("../../../tauri.conf.json");
        let conf: serde_json::Value = serde_json::from_str(conf).unwrap();
        assert_eq!(conf["identifier"], IDENTIFIER);
        assert!(!IDENTIFIER.ends_with(".app"));
    }
}
