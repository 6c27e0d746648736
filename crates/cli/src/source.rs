//! How a program's source is named on the command line, for `outlayer
//! request` and `outlayer build`: the same flags, checked as the contract
//! checks them, so nothing is paid or built for a source it would refuse.

use anyhow::bail;
use clap::ValueEnum;
use outlayer_types::{BuildTarget, CodeSource};

#[derive(clap::Args)]
pub(crate) struct SourceArgs {
    /// Repository to build the program from.
    #[arg(long, required_unless_present_any = ["wasm_url", "js"])]
    repo: Option<String>,
    /// Commit, branch or tag of --repo.
    #[arg(long, requires = "repo", default_value = "main")]
    commit: String,
    /// The package's directory inside --repo, when it is not the root.
    #[arg(long, requires = "repo")]
    path: Option<String>,
    /// A JavaScript file inside --repo (`.js` or `.mjs`) to run on the
    /// workers' QuickJS engine instead of building a package.
    #[arg(long, value_name = "PATH", requires = "repo", conflicts_with = "path")]
    script: Option<String>,
    /// A prebuilt program's URL instead of a repository.
    #[arg(long, conflicts_with = "repo", requires = "wasm_hash")]
    wasm_url: Option<String>,
    /// SHA-256 (hex) of --wasm-url's content.
    #[arg(long)]
    wasm_hash: Option<String>,
    /// A JavaScript file sent inline with the request (at most 4 KiB as a
    /// JSON string) and run on the workers' QuickJS engine.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["repo", "wasm_url"])]
    js: Option<std::path::PathBuf>,
    #[arg(long, value_enum, default_value_t = TargetArg::Wasip1)]
    target: TargetArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum TargetArg {
    #[value(name = "wasm32-wasip1")]
    Wasip1,
    #[value(name = "wasm32-wasip2")]
    Wasip2,
}

impl SourceArgs {
    /// The source these flags name, if the contract would accept it.
    pub(crate) fn code_source(&self) -> anyhow::Result<CodeSource> {
        let build_target = match self.target {
            TargetArg::Wasip1 => BuildTarget::Wasip1,
            TargetArg::Wasip2 => BuildTarget::Wasip2,
        };
        if let Some(path) = &self.js {
            let code = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            let code_source = CodeSource::JavaScript { code };
            code_source
                .validate()
                .map_err(|e| anyhow::anyhow!("the contract would refuse this source: {e}"))?;
            return Ok(code_source);
        }
        let code_source = match (&self.repo, &self.wasm_url, &self.path) {
            (Some(repo), None, None) if self.script.is_some() => CodeSource::GitScript {
                repo: repo.clone(),
                commit: self.commit.clone(),
                path: self.script.clone().unwrap_or_default(),
            },
            (Some(repo), None, Some(path)) => CodeSource::GitPackage {
                repo: repo.clone(),
                commit: self.commit.clone(),
                path: path.clone(),
                build_target,
            },
            (Some(repo), None, None) => CodeSource::GitHub {
                repo: repo.clone(),
                commit: self.commit.clone(),
                build_target,
            },
            (None, Some(url), _) => CodeSource::WasmUrl {
                url: url.clone(),
                hash: self.wasm_hash.clone().unwrap_or_default(),
                build_target,
            },
            _ => bail!("give --repo, --wasm-url or --js"),
        };
        code_source
            .validate()
            .map_err(|e| anyhow::anyhow!("the contract would refuse this source: {e}"))?;
        Ok(code_source)
    }
}
