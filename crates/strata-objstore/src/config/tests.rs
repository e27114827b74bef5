#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn err(yaml: &str) -> String {
    BucketConfig::from_yaml(yaml).unwrap_err().to_string()
}

#[test]
fn s3_minio_config() {
    let c = BucketConfig::from_yaml(
        "type: s3\nconfig:\n  bucket: thanos\n  endpoint: minio:9000\n  insecure: true\n  \
         access_key: k\n  secret_key: s\n  part_size: 5242880\n  http_config:\n    \
         idle_conn_timeout: 1m\n    tls_config:\n      insecure_skip_verify: true\nprefix: tenant-a\n",
    )
    .unwrap();
    assert_eq!(c.prefix, "tenant-a");
    let Provider::S3(s3) = &c.provider else {
        panic!("not S3: {c:?}")
    };
    assert_eq!(s3.bucket, "thanos");
    assert!(s3.insecure && s3.send_content_md5);
    assert_eq!(s3.part_size, 5_242_880);
    assert_eq!(s3.bucket_lookup_type, BucketLookupType::Auto);
    assert_eq!(
        s3.http_config.idle_conn_timeout,
        Some(YamlDuration(std::time::Duration::from_secs(60)))
    );
    assert_eq!(s3.endpoint_url(), ("http://minio:9000".to_owned(), true));
    assert!(!s3.virtual_hosted());
    let b = c.build().unwrap();
    assert_eq!(b.name(), "s3://thanos/tenant-a");
}

#[test]
fn s3_addressing() {
    let s3 = |yaml: &str| match BucketConfig::from_yaml(yaml).unwrap().provider {
        Provider::S3(c) => c,
        p => panic!("{p:?}"),
    };
    let aws = s3("type: S3\nconfig: {bucket: b, endpoint: s3.eu-west-1.amazonaws.com}");
    assert!(aws.virtual_hosted());
    assert_eq!(aws.endpoint_url().0, "https://s3.eu-west-1.amazonaws.com");
    let dotted = s3("type: S3\nconfig: {bucket: a.b, endpoint: s3.amazonaws.com}");
    assert!(!dotted.virtual_hosted());
    let forced = s3(
        "type: S3\nconfig: {bucket: b, endpoint: 'https://x:9000', bucket_lookup_type: virtual-hosted}",
    );
    assert!(forced.virtual_hosted());
    assert_eq!(forced.endpoint_url(), ("https://x:9000".to_owned(), false));
    let path =
        s3("type: S3\nconfig: {bucket: b, endpoint: s3.amazonaws.com, bucket_lookup_type: path}");
    assert!(!path.virtual_hosted());
    let e = err("type: S3\nconfig: {bucket: b, endpoint: x, bucket_lookup_type: dns}");
    assert!(e.contains("dns"), "{e}");
}

#[test]
fn unknown_fields_are_rejected_precisely() {
    let e = err("type: S3\nconfig:\n  bucket: b\n  endpoint: x\n  acces_key: typo\n");
    assert!(
        e.contains("unknown field `acces_key`") && e.contains("line 5, column 3"),
        "{e}"
    );
    // No snippet of the input: the configuration may hold secrets.
    let e = err("type: S3\nconfig:\n  bucket: b\n  secret_key: hunter2\n  acces_key: typo\n");
    assert!(!e.contains("hunter2"), "{e}");
    let e = err("type: S3\nconfig: {bucket: b, endpoint: x, http_config: {idle_timeout: 1s}}");
    assert!(e.contains("idle_timeout"), "{e}");
    let e = err("type: FILESYSTEM\nconfig: {directory: /x}\nprefx: a\n");
    assert!(e.contains("prefx"), "{e}");
    let e = err("type: GCS\nconfig: {bucket: b, endpoint: x}");
    assert!(e.contains("endpoint"), "{e}");
    let e =
        err("type: S3\nconfig: {bucket: b, endpoint: x, http_config: {idle_conn_timeout: soon}}");
    assert!(e.contains("soon"), "{e}");
}

#[test]
fn provider_errors() {
    assert!(err("type: SWIFT\nconfig: {}").contains("SWIFT"));
    assert!(err("type: NOPE").contains("NOPE"));
    assert!(err("config: {}").contains("type"));
    let e = BucketConfig::from_yaml("type: S3\nconfig: {bucket: b}")
        .unwrap()
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("endpoint"), "{e}");
    let e = BucketConfig::from_yaml("type: S3\nconfig: {bucket: b, endpoint: x, access_key: k}")
        .unwrap()
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("secret_key"), "{e}");
    let e = BucketConfig::from_yaml(
        "type: S3\nconfig: {bucket: b, endpoint: x, signature_version2: true}",
    )
    .unwrap()
    .build()
    .unwrap_err()
    .to_string();
    assert!(e.contains("signature_version2"), "{e}");
    let e = BucketConfig::from_yaml("type: FILESYSTEM\nconfig: {}")
        .unwrap()
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("directory"), "{e}");
    let e = BucketConfig::from_yaml("type: AZURE\nconfig: {storage_account: a}")
        .unwrap()
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("no container"), "{e}");
    let e = BucketConfig::from_yaml("type: GCS\nconfig: {bucket: b, use_grpc: true}")
        .unwrap()
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("use_grpc"), "{e}");
}

#[test]
fn every_provider_builds() {
    let dir = tempfile::tempdir().unwrap();
    let fs = format!(
        "type: FILESYSTEM\nconfig:\n  directory: {}\n",
        dir.path().display()
    );
    BucketConfig::from_yaml(&fs).unwrap().build().unwrap();
    BucketConfig::from_yaml("type: MEMORY")
        .unwrap()
        .build()
        .unwrap();
    BucketConfig::from_yaml(
        "type: AZURE\nconfig:\n  storage_account: acct\n  storage_account_key: a2V5\n  container: c\n  \
         pipeline_config: {max_tries: 3, try_timeout: 10s}\n",
    )
    .unwrap()
    .build()
    .unwrap();
    BucketConfig::from_yaml(
        "type: AZURE\nconfig:\n  container: c\n  storage_connection_string: \
         'DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/dev'\n",
    )
    .unwrap()
    .build()
    .unwrap();
    BucketConfig::from_yaml("type: GCS\nconfig: {bucket: b, max_retries: 2}")
        .unwrap()
        .build()
        .unwrap();
}

#[test]
fn s3_credential_chain() {
    use super::s3::{StaticCredentials, credentials_from_ini, static_credentials};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("credentials");
    std::fs::write(
        &file,
        "[default]\naws_access_key_id = dk\naws_secret_access_key = ds\n\n[prod]\n\
         aws_access_key_id=pk\naws_secret_access_key=ps\naws_session_token=pt\n",
    )
    .unwrap();
    let cfg = S3Config::default();
    let file_s = file.display().to_string();
    let env = |vars: Vec<(&'static str, String)>| {
        move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    };
    let sc = |k: &str, s: &str, t: Option<&str>| StaticCredentials {
        key: k.into(),
        secret: s.into(),
        token: t.map(Into::into),
    };
    let with_keys = S3Config {
        access_key: "ck".into(),
        secret_key: "cs".into(),
        ..S3Config::default()
    };
    let e = env(vec![
        ("AWS_ACCESS_KEY_ID", "ek".into()),
        ("AWS_SECRET_ACCESS_KEY", "es".into()),
    ]);
    assert_eq!(
        static_credentials(&with_keys, &e).unwrap(),
        Some(sc("ck", "cs", None))
    );
    assert_eq!(
        static_credentials(&cfg, &e).unwrap(),
        Some(sc("ek", "es", None))
    );
    let e = env(vec![("AWS_SHARED_CREDENTIALS_FILE", file_s.clone())]);
    assert_eq!(
        static_credentials(&cfg, &e).unwrap(),
        Some(sc("dk", "ds", None))
    );
    let e = env(vec![
        ("AWS_SHARED_CREDENTIALS_FILE", file_s.clone()),
        ("AWS_PROFILE", "prod".into()),
    ]);
    assert_eq!(
        static_credentials(&cfg, &e).unwrap(),
        Some(sc("pk", "ps", Some("pt")))
    );
    let e = env(vec![(
        "AWS_SHARED_CREDENTIALS_FILE",
        dir.path().join("none").display().to_string(),
    )]);
    assert_eq!(static_credentials(&cfg, &e).unwrap(), None);
    assert_eq!(
        credentials_from_ini("[other]\naws_access_key_id=x\n", "default"),
        None
    );
}

#[test]
fn azure_connection_string() {
    let c = azure::parse_connection_string(
        "DefaultEndpointsProtocol=https;AccountName=acc;AccountKey=k==;EndpointSuffix=core.windows.net",
    );
    assert_eq!(c.account_name.as_deref(), Some("acc"));
    assert_eq!(c.account_key.as_deref(), Some("k=="));
    assert_eq!(c.blob_endpoint, None);
}
