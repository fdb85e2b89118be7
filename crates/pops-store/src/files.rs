//! Small files beside the database, written so that a crash leaves the old file or the new one,
//! never half of one.

use crate::Result;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `dir/name` through a temporary file, flushed to disk and renamed into place.
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))?;
    // The rename itself is durable only once the folder is flushed (not possible on Windows).
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}
