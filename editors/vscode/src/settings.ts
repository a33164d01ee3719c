// VS Code's `chalice-iam.*` settings → the object the server reads from
// `initializationOptions` and from `workspace/configuration` (see the server's
// `lsp/settings.rs`). Pure (no `vscode` import): the unit tests and the
// protocol test use these exact functions, so what they check is what the
// extension sends.

/** The configuration section, in VS Code and on the wire. */
export const SECTION = 'chalice-iam';

export const SEVERITY_LEVELS = ['error', 'warning', 'information', 'hint', 'off'] as const;
export type SeverityLevel = (typeof SEVERITY_LEVELS)[number];

/** Exactly the keys `ClientSettings::from_json` understands. */
export interface ServerSettings {
  stage?: string;
  pythonVersion?: string;
  severity?: Record<string, SeverityLevel>;
}

/** The part of `vscode.WorkspaceConfiguration` this module uses. */
export interface ConfigurationReader {
  get<T>(key: string): T | undefined;
}

export interface MappedSettings {
  settings: ServerSettings;
  /** One message per value that was dropped, for the output channel. */
  problems: string[];
}

const CODE = /^CIAM\d{3}$/;
const PYTHON_VERSION = /^3\.\d{1,2}(\.\d+)?$/;

/**
 * Reads `chalice-iam.stage`, `.pythonVersion` and `.severity` from `config`
 * (the `chalice-iam` section). Unset and empty values are left out, so that
 * the server's defaults (every stage; the Python version from the project)
 * apply. Keys VS Code keeps in the same section but the server does not read
 * (`server.path`, `trace.server`) are never sent: the server would report
 * them as unknown.
 */
export function serverSettings(config: ConfigurationReader): MappedSettings {
  const settings: ServerSettings = {};
  const problems: string[] = [];

  const stage = config.get<unknown>('stage');
  if (typeof stage === 'string') {
    if (stage.trim() !== '') {
      settings.stage = stage.trim();
    }
  } else if (stage !== undefined && stage !== null) {
    problems.push(`chalice-iam.stage must be a stage name, not ${JSON.stringify(stage)}`);
  }

  const version = config.get<unknown>('pythonVersion');
  if (typeof version === 'string' && PYTHON_VERSION.test(version.trim())) {
    settings.pythonVersion = version.trim();
  } else if (!(version === undefined || version === null || (typeof version === 'string' && version.trim() === ''))) {
    problems.push(`chalice-iam.pythonVersion must look like "3.12", not ${JSON.stringify(version)}`);
  }

  const severity = config.get<unknown>('severity');
  if (severity !== undefined && severity !== null) {
    if (typeof severity !== 'object' || Array.isArray(severity)) {
      problems.push(`chalice-iam.severity must map codes such as CIAM001 to a level, not ${JSON.stringify(severity)}`);
    } else {
      const levels: Record<string, SeverityLevel> = {};
      for (const [rawCode, rawLevel] of Object.entries(severity as Record<string, unknown>)) {
        const code = rawCode.trim().toUpperCase();
        const level = typeof rawLevel === 'string' ? normalizeLevel(rawLevel) : undefined;
        if (!CODE.test(code)) {
          problems.push(`chalice-iam.severity: "${rawCode}" is not a diagnostic code such as CIAM001`);
        } else if (level === undefined) {
          problems.push(
            `chalice-iam.severity.${code} must be one of ${SEVERITY_LEVELS.join(', ')}, not ${JSON.stringify(rawLevel)}`,
          );
        } else {
          levels[code] = level;
        }
      }
      if (Object.keys(levels).length > 0) {
        settings.severity = levels;
      }
    }
  }

  return { settings, problems };
}

/** Accepts the spellings the server accepts (`info`, `none`), sends the canonical ones. */
function normalizeLevel(text: string): SeverityLevel | undefined {
  const lower = text.trim().toLowerCase();
  if (lower === 'info') {
    return 'information';
  }
  if (lower === 'none') {
    return 'off';
  }
  return (SEVERITY_LEVELS as readonly string[]).includes(lower) ? (lower as SeverityLevel) : undefined;
}

/** `initializationOptions`: the settings object itself, as `lsp/settings.rs` documents. */
export function initializationOptions(config: ConfigurationReader): ServerSettings {
  return serverSettings(config).settings;
}

export interface ConfigurationItem {
  scopeUri?: string;
  section?: string;
}

/**
 * Answers a `workspace/configuration` request. Items for the `chalice-iam`
 * section get the mapped settings for their scope; other items keep the
 * answer VS Code's default handler gave (`defaults`, index for index).
 */
export function configurationAnswers(
  items: readonly ConfigurationItem[],
  defaults: readonly unknown[],
  readerFor: (scopeUri: string | undefined) => ConfigurationReader,
): unknown[] {
  return items.map((item, index) =>
    item.section === SECTION ? serverSettings(readerFor(item.scopeUri)).settings : defaults[index] ?? null,
  );
}

/**
 * A reader over the defaults a `package.json` declares under
 * `contributes.configuration`: what a fresh install of the extension reads.
 */
export function defaultsReader(packageJson: {
  contributes?: { configuration?: { properties?: Record<string, { default?: unknown }> } };
}): ConfigurationReader {
  const properties = packageJson.contributes?.configuration?.properties ?? {};
  return {
    get<T>(key: string): T | undefined {
      return properties[`${SECTION}.${key}`]?.default as T | undefined;
    },
  };
}

/** A reader over a plain object such as `{ stage: 'prod', severity: { CIAM001: 'error' } }`. */
export function objectReader(values: Record<string, unknown>): ConfigurationReader {
  return {
    get<T>(key: string): T | undefined {
      return values[key] as T | undefined;
    },
  };
}
