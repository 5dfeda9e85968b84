//! The company profile (`company:` in the config, default `config/company.yaml`): loaded and
//! validated with located errors, stored as the document `company/self` so connectors (the
//! seller party of outbound EDI) read the same profile the printed invoice uses.

use ordo_contract::Company;
use std::path::Path;

/// Document kind and id under which the running engine keeps the profile.
pub use ordo_partners::COMPANY_DOC;

/// Reads and validates the profile. A missing file is `Ok(None)`: documents then carry no
/// seller details, and `ordo invoice --html` refuses to print. Errors are `path:line:col`.
pub fn load(path: &Path) -> Result<Option<Company>, Vec<String>> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(vec![format!("{shown}: {e}")]),
    };
    let company: Company =
        serde_saphyr::from_str(&text).map_err(|e| vec![ordo_workflow::yaml_error(&shown, &e)])?;
    let mut errors: Vec<String> = company
        .problems()
        .into_iter()
        .map(|(keys, message)| {
            format!("{}: {message}", ordo_workflow::locate(&shown, &text, &keys))
        })
        .collect();
    if let Some(logo) = &company.logo
        && let Err(e) = logo_data_uri(path, logo)
    {
        errors.push(format!(
            "{}: {e}",
            ordo_workflow::locate(&shown, &text, &["logo"])
        ));
    }
    if errors.is_empty() {
        Ok(Some(company))
    } else {
        Err(errors)
    }
}

/// Largest logo embedded in a printed document.
const MAX_LOGO_BYTES: u64 = 256 * 1024;

/// The logo as a `data:` URI (printed documents are self-contained: no external assets).
/// `logo` is relative to the profile's folder.
pub fn logo_data_uri(profile: &Path, logo: &str) -> Result<String, String> {
    let file = profile.parent().unwrap_or(Path::new(".")).join(logo);
    let mime = match file.extension().and_then(|e| e.to_str()) {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("svg") => "image/svg+xml",
        _ => return Err(format!("logo '{logo}' must be a .png, .jpg or .svg file")),
    };
    let size = std::fs::metadata(&file)
        .map_err(|e| format!("logo '{}': {e}", file.display()))?
        .len();
    if size > MAX_LOGO_BYTES {
        return Err(format!(
            "logo '{}' is {size} bytes; at most {MAX_LOGO_BYTES} are embedded",
            file.display()
        ));
    }
    let bytes = std::fs::read(&file).map_err(|e| format!("logo '{}': {e}", file.display()))?;
    use base64::Engine as _;
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// Stores the profile as `company/self` when it changed.
pub async fn sync(
    engine: &crate::runtime::Engine,
    company: &Company,
) -> Result<(), crate::runtime::EngineError> {
    let v = serde_json::to_value(company)
        .map_err(|e| crate::runtime::EngineError::Refused(e.to_string()))?;
    let mut tx = engine.store.begin().await?;
    if tx
        .get_document(COMPANY_DOC.0, COMPANY_DOC.1)
        .await?
        .as_ref()
        != Some(&v)
    {
        tx.put_document(COMPANY_DOC.0, COMPANY_DOC.1, &v, engine.clock.now_ms())
            .await?;
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(())
}
