//! The scenario model: built-ins parse, files and lists agree, bad files give clear errors.

use std::collections::BTreeSet;

use diag_lab::{Scenario, ScenarioError};

use crate::common::TestResult;

const SCENARIO_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");

#[test]
fn every_builtin_parses_and_is_listed() -> TestResult {
    let listed: Vec<(String, String)> = Scenario::builtin_list();
    let on_disk: BTreeSet<String> = std::fs::read_dir(SCENARIO_DIR)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".toml")
                .map(str::to_string)
        })
        .collect();
    let names: BTreeSet<String> = listed.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(
        names, on_disk,
        "scenarios/*.toml and the built-in list differ"
    );
    assert!(names.len() >= 22, "only {} built-ins", names.len());
    for (name, description) in &listed {
        assert!(!description.is_empty(), "{name} has no description");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{name} not kebab-case"
        );
        // The file parses the same way from disk, and its name matches the file.
        let from_file = Scenario::from_file(format!("{SCENARIO_DIR}/{name}.toml"))?;
        assert_eq!(&from_file.name, name);
        assert_eq!(Some(from_file), Scenario::builtin(name));
    }
    assert_eq!(listed.first().map(|(n, _)| n.as_str()), Some("healthy"));
    Ok(())
}

#[test]
fn identity_cases_encode_their_state() -> TestResult {
    // case-03: only Graph Mail.Send (Application), no Exchange service principal, SMTP method.
    let s = crate::common::builtin("no-smtp-sendasapp")?;
    assert_eq!(
        s.apps[0].application_permissions,
        vec!["graph:Mail.Send".to_string()]
    );
    assert!(!s.apps[0].exchange_service_principal);
    assert_eq!(s.device.method, diag_lab::scenario::Method::Smtp);
    // case-13: Mail.Send delegated only, Graph method.
    let s = crate::common::builtin("delegated-permission")?;
    assert!(s.apps[0].application_permissions.is_empty());
    assert_eq!(
        s.apps[0].delegated_permissions,
        vec!["graph:Mail.Send".to_string()]
    );
    // case-04: device code signed in as the admin, mailbox relay@.
    let s = crate::common::builtin("device-code-wrong-user")?;
    assert!(s.device.device_code && s.apps[0].public_client);
    assert_eq!(
        (s.device.sign_in_as.as_str(), s.device.mailbox.as_str()),
        ("admin@contoso.com", "relay@contoso.com")
    );
    // case-16: the device's address is none of the user's addresses.
    let s = crate::common::builtin("mailbox-not-found")?;
    assert!(s.users.iter().all(|u| !u.has_address(&s.device.mailbox)));
    Ok(())
}

#[test]
fn defaults_fill_a_minimal_file() -> TestResult {
    let s = Scenario::from_toml_str(
        "name = \"tiny\"\n[[app]]\nclient_id = \"6e1c4a57-3b2d-4f8e-9c0a-7d5b2e8f1a34\"\n",
    )?;
    assert_eq!(s.tenant.domains, vec!["contoso.com".to_string()]);
    assert!(s.tenant.exchange_online);
    assert!(s.apps[0].enabled && s.apps[0].admin_consent && !s.apps[0].public_client);
    assert_eq!(
        s.network.token_endpoint,
        diag_lab::scenario::TokenEndpointState::Up
    );
    assert!(s.tls.ecdhe_only);
    Ok(())
}

fn parse_error(text: &str) -> String {
    match Scenario::from_toml_str(text) {
        Ok(_) => panic!("scenario should not parse:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unknown_keys_and_wrong_types_are_named() {
    let e = parse_error("name = \"x\"\n[tenant]\nexchange_onlin = true\n");
    assert!(e.contains("exchange_onlin") && e.contains("line 3"), "{e}");
    let e = parse_error("name = \"x\"\n[tenant]\nsecurity_defaults = \"yes\"\n");
    assert!(
        e.contains("security_defaults") || e.contains("line 3"),
        "{e}"
    );
    assert!(e.contains("bool") || e.contains("boolean"), "{e}");
    let e = parse_error("name = \"x\"\n[network]\ntoken_endpoint = \"sideways\"\n");
    assert!(e.contains("sideways") && e.contains("down"), "{e}");
    let e = parse_error(
        "name = \"x\"\n[[user]]\naddress = \"a@contoso.com\"\nplans = [\"EXCHANGE_S_PLATINUM\"]\n",
    );
    assert!(
        e.contains("user[0].plans[0]")
            && e.contains("EXCHANGE_S_PLATINUM")
            && e.contains("EXCHANGE_S_STANDARD"),
        "{e}"
    );
    let e = parse_error("name = \"x\"\n[[app]]\nclient_id = \"scan-app\"\n");
    assert!(
        e.contains("app[0].client_id") && e.contains("not a GUID"),
        "{e}"
    );
    let e = parse_error(
        "name = \"x\"\n[[app]]\nclient_id = \"6e1c4a57-3b2d-4f8e-9c0a-7d5b2e8f1a34\"\napplication_permissions = [\"Mail.Send\"]\n",
    );
    assert!(e.contains("app[0].application_permissions[0]"), "{e}");
    let e = parse_error(
        "name = \"x\"\n[[app]]\nclient_id = \"6e1c4a57-3b2d-4f8e-9c0a-7d5b2e8f1a34\"\nsecrets = [{ id = \"2c9d4e61-7a3b-4c5d-8e9f-0a1b2c3d4e5f\", value = \"v\", expires = \"soon\" }]\n",
    );
    assert!(e.contains("soon") && e.contains("timestamp"), "{e}");
}

#[test]
fn file_errors_name_the_file() -> TestResult {
    let dir = std::env::temp_dir().join(format!("diag-lab-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let bad = dir.join("typo.toml");
    std::fs::write(
        &bad,
        "[device]\nmethod = \"smtp\"\nmailbx = \"a@contoso.com\"\n",
    )?;
    let e = Scenario::from_file(&bad)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("typo.toml") && e.contains("mailbx") && e.contains("line 3"),
        "{e}"
    );

    let missing = dir.join("absent.toml");
    match Scenario::from_file(&missing) {
        Err(ScenarioError::Read { path, .. }) => assert!(path.ends_with("absent.toml")),
        other => panic!("expected a read error, got {other:?}"),
    }
    // A file without `name` takes its stem.
    let plain = dir.join("my-site.toml");
    std::fs::write(&plain, "[tenant]\ndomains = [\"fabrikam.com\"]\n")?;
    assert_eq!(Scenario::from_file(&plain)?.name, "my-site");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn secrets_do_not_show_in_debug_output() -> TestResult {
    let s = crate::common::builtin("healthy")?;
    let shown = format!("{s:?}");
    assert!(
        !shown.contains(&s.apps[0].secrets[0].value),
        "secret value in Debug output"
    );
    assert!(!shown.contains(&s.device.client_secret));
    assert!(shown.contains("<redacted>"));
    Ok(())
}
