use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use super::*;

fn source(dir: &Path, configured: Option<&[u8; 32]>, previous: &[[u8; 32]]) -> KeySource {
    KeySource {
        configured: configured.map(|k| Secret::new(STANDARD.encode(k))),
        previous: previous
            .iter()
            .map(|k| Secret::new(STANDARD.encode(k)))
            .collect(),
        data_dir: dir.to_owned(),
    }
}

#[test]
fn previous_keys_open_and_only_the_current_one_seals() {
    let dir = tempfile::tempdir().unwrap();
    let old = MasterKeys::load(&source(dir.path(), Some(&[1; 32]), &[])).unwrap();
    let sealed_old = old.seal(b"secret", "u").unwrap();

    let ring = MasterKeys::load(&source(dir.path(), Some(&[2; 32]), &[[1; 32]])).unwrap();
    assert_eq!(ring.open(&sealed_old, "u").unwrap(), b"secret");
    let sealed_new = ring.seal(b"secret", "u").unwrap();
    assert_eq!(key_id_of(&sealed_new), Some(ring.current_id()));
    assert_ne!(ring.current_id(), old.current_id());
    assert_eq!(ring.ids().count(), 2);

    let without_old = MasterKeys::load(&source(dir.path(), Some(&[2; 32]), &[])).unwrap();
    assert!(matches!(
        without_old.open(&sealed_old, "u"),
        Err(SecretBoxError::UnknownKey(id)) if id == old.current_id()
    ));
    assert!(matches!(
        without_old.open("garbage", "u"),
        Err(SecretBoxError::Open)
    ));
}

#[test]
fn the_current_key_listed_as_previous_is_not_counted_twice() {
    let dir = tempfile::tempdir().unwrap();
    let ring = MasterKeys::load(&source(dir.path(), Some(&[3; 32]), &[[3; 32], [4; 32]])).unwrap();
    assert_eq!(ring.ids().count(), 2);
}

#[test]
fn a_generated_key_replaced_by_a_configured_one_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let generated = MasterKeys::load(&source(dir.path(), None, &[])).unwrap();
    let sealed = generated.seal(b"s", "u").unwrap();
    let configured = MasterKeys::load(&source(dir.path(), Some(&[5; 32]), &[])).unwrap();
    assert_eq!(configured.open(&sealed, "u").unwrap(), b"s");
}

#[test]
fn rotating_a_generated_key_keeps_the_old_one_as_a_private_retired_file() {
    let dir = tempfile::tempdir().unwrap();
    let before = MasterKeys::load(&source(dir.path(), None, &[])).unwrap();
    let sealed = before.seal(b"s", "u").unwrap();

    let rotated = rotate_generated(dir.path()).unwrap();
    assert_eq!(rotated.retired_key_id, before.current_id());
    let after = MasterKeys::load(&source(dir.path(), None, &[])).unwrap();
    assert_eq!(after.current_id(), rotated.key_id);
    assert_eq!(after.open(&sealed, "u").unwrap(), b"s");

    let retired = dir
        .path()
        .join(format!("master-retired-{}.key", rotated.retired_key_id));
    let mode = fs::metadata(&retired).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let mode = fs::metadata(dir.path().join(KEY_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".new-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A second rotation keeps both retired keys.
    rotate_generated(dir.path()).unwrap();
    let twice = MasterKeys::load(&source(dir.path(), None, &[])).unwrap();
    assert_eq!(twice.ids().count(), 3);
    assert_eq!(twice.open(&sealed, "u").unwrap(), b"s");
}

#[test]
fn a_live_ring_picks_up_a_rotation_when_it_meets_the_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let live = Keyring::load(source(dir.path(), None, &[])).unwrap();
    let old_id = live.keys().current_id().to_owned();

    // Another process (the CLI) rotates and seals under the new key.
    rotate_generated(dir.path()).unwrap();
    let cli = MasterKeys::load(&source(dir.path(), None, &[])).unwrap();
    let sealed = cli.seal(b"s", "u").unwrap();

    assert_eq!(live.open(&sealed, "u").unwrap(), b"s");
    assert_eq!(live.keys().current_id(), cli.current_id());
    assert_ne!(live.keys().current_id(), old_id);

    // An unknown key right after: no second read within the second.
    let stranger = SecretBox::from_key(&[9; 32]).seal(b"s", "u").unwrap();
    assert!(matches!(
        live.open(&stranger, "u"),
        Err(SecretBoxError::UnknownKey(_))
    ));
}

#[test]
fn a_bad_retired_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("master-retired-x.key"), "not a key").unwrap();
    let err = MasterKeys::load(&source(dir.path(), Some(&[1; 32]), &[])).unwrap_err();
    assert!(err.to_string().contains("master-retired-x.key"), "{err}");
}
