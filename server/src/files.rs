//! Reading the user's files. Only regular files are read: a FIFO named
//! `app.py` (or a symbolic link to one) would block the read until some
//! process writes to it, and a link to `/dev/zero` would never end. Such
//! files are an error like any unreadable file.

use std::io::Read;
use std::path::Path;

/// The bytes of the regular file at `path` (symbolic links followed).
pub fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking, so that opening a FIFO returns at once instead of
    // waiting for a writer; the check below then refuses it. On a regular
    // file the flag changes nothing.
    let mut file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file (a FIFO, device or directory); not read"));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// [`read`] as UTF-8 text.
pub fn read_to_string(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read(path)?).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.py");
        std::fs::write(&file, "x = 1\n").unwrap();
        assert_eq!(read(&file).unwrap(), b"x = 1\n");
        let fifo = dir.path().join("p.py");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert!(read(&fifo).unwrap_err().to_string().contains("not a regular file"));
        assert!(read(Path::new("/dev/zero")).is_err());
        assert!(read(dir.path()).is_err());
        assert!(read_to_string(Path::new("/no/such/file")).is_err());
    }
}
