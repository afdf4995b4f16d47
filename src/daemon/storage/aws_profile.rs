//! Static keys, region and endpoint from a named AWS profile
//! (`~/.aws/credentials`, `~/.aws/config`), which `object_store` does not
//! read. Only what the environment leaves unset is taken from the profile,
//! so `AWS_*` variables win, as with the AWS CLI. SSO, `credential_process`
//! and role chaining are not supported: export keys for those.

use std::collections::HashMap;
use std::path::PathBuf;

/// The settings of the profile `AWS_PROFILE` (or `default`) that the
/// environment does not set, as `object_store` configuration keys.
pub fn settings() -> Vec<(&'static str, String)> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let home = || std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".aws"));
    let credentials_file =
        env("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from).or_else(|| Some(home()?.join("credentials")));
    let config_file = env("AWS_CONFIG_FILE").map(PathBuf::from).or_else(|| Some(home()?.join("config")));
    let read = |path: Option<PathBuf>| path.and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();

    let credentials = section(&read(credentials_file), &profile);
    // In the config file the default profile is `[default]`, the others `[profile NAME]`.
    let config_name = if profile == "default" { profile.clone() } else { format!("profile {profile}") };
    let config = section(&read(config_file), &config_name);
    let mut found = Vec::new();
    // Keys come as a pair (with the token): from the environment or from the profile.
    if env("AWS_ACCESS_KEY_ID").is_none() {
        for key in ["aws_access_key_id", "aws_secret_access_key", "aws_session_token"] {
            if let Some(value) = credentials.get(key).or_else(|| config.get(key)) {
                found.push((key, value.clone()));
            }
        }
    }
    if let (None, None, Some(region)) = (env("AWS_REGION"), env("AWS_DEFAULT_REGION"), config.get("region")) {
        found.push(("aws_region", region.clone()));
    }
    if let (None, None, Some(url)) = (env("AWS_ENDPOINT_URL"), env("AWS_ENDPOINT"), config.get("endpoint_url")) {
        found.push(("aws_endpoint", url.clone()));
    }
    found
}

/// The `key = value` lines of `[name]` in an INI file.
fn section(text: &str, name: &str) -> HashMap<String, String> {
    let mut inside = false;
    let mut values = HashMap::new();
    for line in text.lines().map(str::trim) {
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = header.trim() == name;
        } else if let (true, Some((key, value))) = (inside, line.split_once('=')) {
            if !line.starts_with('#') && !line.starts_with(';') {
                values.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
            }
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::section;
    use object_store::aws::AmazonS3ConfigKey;

    #[test]
    fn every_setting_is_a_key_object_store_knows() {
        for key in ["aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_region", "aws_endpoint"] {
            assert!(key.parse::<AmazonS3ConfigKey>().is_ok(), "{key}");
        }
    }

    #[test]
    fn reads_the_named_section_only() {
        let text = "[default]\naws_access_key_id = A\n\n[profile lab]\n# a comment\nregion=eu-west-1\nendpoint_url = http://x:9000\n[other]\nregion = us-east-1\n";
        assert_eq!(section(text, "default")["aws_access_key_id"], "A");
        let lab = section(text, "profile lab");
        assert_eq!((lab["region"].as_str(), lab["endpoint_url"].as_str()), ("eu-west-1", "http://x:9000"));
        assert!(section(text, "missing").is_empty());
    }
}
