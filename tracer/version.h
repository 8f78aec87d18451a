/*
 * tracer/version.h — the one place cuguard's version is written down.
 *
 * What it is for: `cuguard --version`, the `tool_version` of every trace
 * header (tracer/format.h) and the JSON report's "tool_version" all print
 * this string. Bump it here, and nowhere else, for a release.
 *
 * What it must never do: hold anything but the version (no build date: two
 * builds of one source must write the same headers).
 */
#ifndef CUGUARD_TRACER_VERSION_H
#define CUGUARD_TRACER_VERSION_H

#define CUGUARD_VERSION "0.2.0"

#endif
