#!/usr/bin/env python3
"""pgxn-meta-check.py META.json [CONTROL]: validate a PGXN META.json.

Checks the rules of the PGXN Meta Spec 1.0.0 (https://pgxn.org/meta/spec.txt)
that a distribution's META.json must follow: the required keys and their
types, semantic versions (MAJOR.MINOR.PATCH), the license names the spec
lists, provides entries with file and version, prereqs phases and relations,
release_status, and meta-spec.version 1.0.0.  With CONTROL (an extension's
.control file) it also checks that the provided extension's version is the
control file's default_version (1.1 reads as 1.1.0).  No Debian package
validates PGXN metadata, hence this script.  Prints each problem; exit 1 if
there is any.
"""
import json
import os
import re
import sys

SEMVER = re.compile(r'^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+)?$')
LICENSES = {'agpl_3', 'apache_1_1', 'apache_2_0', 'artistic_1', 'artistic_2', 'bsd', 'freebsd',
            'gfdl_1_2', 'gfdl_1_3', 'gpl_1', 'gpl_2', 'gpl_3', 'lgpl_2_1', 'lgpl_3_0', 'mit',
            'mozilla_1_0', 'mozilla_1_1', 'openssl', 'perl_5', 'postgresql', 'qpl_1_0',
            'ssleay', 'sun', 'zlib', 'open_source', 'restricted', 'unrestricted', 'unknown'}
PHASES = {'configure', 'build', 'test', 'runtime', 'develop'}
RELATIONS = {'requires', 'recommends', 'suggests', 'conflicts'}


def check(meta, base, control):
    problems = []

    def need(key, kind):
        if key not in meta:
            problems.append(f'required key "{key}" is missing')
            return False
        if not isinstance(meta[key], kind):
            problems.append(f'"{key}" must be a {kind.__name__ if isinstance(kind, type) else "string or list"}')
            return False
        return True

    if need('name', str) and not re.match(r'^[A-Za-z0-9][A-Za-z0-9_-]*$', meta['name']):
        problems.append('"name" may hold only letters, digits, "-" and "_"')
    need('abstract', str)
    if need('version', str) and not SEMVER.match(meta['version']):
        problems.append(f'"version" {meta["version"]!r} is not a semantic version')
    if need('maintainer', (str, list)) and isinstance(meta['maintainer'], list) and not meta['maintainer']:
        problems.append('"maintainer" must not be empty')
    if need('license', (str, list, dict)):
        lic = meta['license']
        names = [lic] if isinstance(lic, str) else (lic if isinstance(lic, list) else [])
        for name in names:
            if name not in LICENSES:
                problems.append(f'license {name!r} is not one the spec names (or use a {{name: url}} object)')
    if need('provides', dict):
        if not meta['provides']:
            problems.append('"provides" names no extension')
        for ext, entry in meta['provides'].items():
            if not isinstance(entry, dict):
                problems.append(f'provides.{ext} must be an object')
                continue
            for key in ('file', 'version'):
                if key not in entry:
                    problems.append(f'provides.{ext}.{key} is missing')
            if 'version' in entry and not SEMVER.match(str(entry['version'])):
                problems.append(f'provides.{ext}.version {entry["version"]!r} is not a semantic version')
            for key in ('file', 'docfile'):
                if key in entry and not os.path.isfile(os.path.join(base, entry[key])):
                    problems.append(f'provides.{ext}.{key} {entry[key]!r} does not exist')
    if need('meta-spec', dict):
        if meta['meta-spec'].get('version') != '1.0.0':
            problems.append('meta-spec.version must be "1.0.0"')
    for phase, rels in meta.get('prereqs', {}).items():
        if phase not in PHASES:
            problems.append(f'prereqs phase {phase!r} is not one of {sorted(PHASES)}')
            continue
        for rel, reqs in rels.items():
            if rel not in RELATIONS:
                problems.append(f'prereqs.{phase} relation {rel!r} is not one of {sorted(RELATIONS)}')
                continue
            for name, ver in reqs.items():
                if ver != 0 and not SEMVER.match(str(ver)):
                    problems.append(f'prereqs.{phase}.{rel}.{name} {ver!r} is not a semantic version or 0')
    if meta.get('release_status', 'stable') not in ('stable', 'testing', 'unstable'):
        problems.append('release_status must be stable, testing or unstable')
    for key in ('tags',):
        if key in meta and not (isinstance(meta[key], list) and all(isinstance(t, str) and 0 < len(t) < 256 for t in meta[key])):
            problems.append(f'"{key}" must be a list of non-empty strings')

    if control and 'provides' in meta and isinstance(meta['provides'], dict):
        default = None
        with open(control) as f:
            for line in f:
                m = re.match(r"\s*default_version\s*=\s*'([^']*)'", line)
                if m:
                    default = m.group(1)
        ext = os.path.splitext(os.path.basename(control))[0]
        entry = meta['provides'].get(ext)
        if entry is None:
            problems.append(f'provides does not name extension {ext}')
        elif default is not None:
            parts = (default.split('.') + ['0', '0'])[:3]
            if '.'.join(parts) != entry.get('version'):
                problems.append(f'provides.{ext}.version {entry.get("version")!r} is not the control file\'s default_version {default!r}')
    return problems


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    path = sys.argv[1]
    try:
        with open(path) as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        print(f'{path}: {e}', file=sys.stderr)
        sys.exit(1)
    problems = check(meta, os.path.dirname(os.path.abspath(path)), sys.argv[2] if len(sys.argv) == 3 else None)
    for p in problems:
        print(f'{path}: {p}', file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()
