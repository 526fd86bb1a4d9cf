//! Where `--download` and `video download` save a video, checked before anything is created
//! on HeyGen: a render is paid for, so a destination that cannot take the file must be refused
//! first, not found out after the wait.

use std::path::{Path, PathBuf};

/// A checked destination: a file, or a folder where the video goes as `<video_id>.mp4`.
#[derive(Debug, Clone)]
pub(crate) struct Destination {
    path: PathBuf,
    folder: bool,
}

impl Destination {
    /// Checks `path`, creating the folders it needs. An existing folder, or a path that ends
    /// with a separator, is a folder; anything else is the file to write.
    pub(crate) fn prepare(path: &Path) -> Result<Self, String> {
        let text = path.as_os_str().to_string_lossy();
        let folder =
            path.is_dir() || text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR);
        let dir = if folder {
            path.to_path_buf()
        } else {
            match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            }
        };
        // The nearest part of the path that exists must be a folder.
        let clean: PathBuf = dir.components().collect();
        for ancestor in clean.ancestors().filter(|a| !a.as_os_str().is_empty()) {
            if let Ok(meta) = std::fs::metadata(ancestor) {
                if !meta.is_dir() {
                    return Err(format!("{} is a file, not a folder", ancestor.display()));
                }
                break;
            }
        }
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create the folder {}: {e}", dir.display()))?;
        // A folder that takes no new file (read-only, full) is found out now.
        tempfile::tempfile_in(&dir)
            .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
        Ok(Destination {
            path: path.to_path_buf(),
            folder,
        })
    }

    /// The file the video `video_id` is saved to.
    pub(crate) fn file(&self, video_id: &str) -> PathBuf {
        if self.folder {
            self.path.join(format!("{video_id}.mp4"))
        } else {
            self.path.clone()
        }
    }

    /// The path as given, for the command that fetches the video again.
    pub(crate) fn given(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_folder_or_a_trailing_slash_means_a_file_named_after_the_video() {
        let dir = tempfile::tempdir().unwrap();
        let existing = Destination::prepare(dir.path()).unwrap();
        assert_eq!(existing.file("vid_1"), dir.path().join("vid_1.mp4"));
        let new = dir.path().join("new");
        let slash = Destination::prepare(Path::new(&format!("{}/", new.display()))).unwrap();
        assert!(new.is_dir(), "the folder is created");
        assert_eq!(slash.file("vid_2"), new.join("vid_2.mp4"));
    }

    #[test]
    fn missing_parents_are_created_and_a_file_keeps_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/demo.mp4");
        let file = Destination::prepare(&path).unwrap();
        assert!(dir.path().join("a/b").is_dir());
        assert_eq!(file.file("vid_1"), path);
        assert!(!path.exists(), "nothing is written yet");
    }

    #[test]
    fn a_file_in_the_way_of_a_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("blocker");
        std::fs::write(&blocker, b"x").unwrap();
        let e = Destination::prepare(&blocker.join("demo.mp4")).unwrap_err();
        assert!(e.contains("is a file, not a folder"), "{e}");
        let e = Destination::prepare(Path::new(&format!("{}/", blocker.display()))).unwrap_err();
        assert!(e.contains("is a file, not a folder"), "{e}");
    }
}
