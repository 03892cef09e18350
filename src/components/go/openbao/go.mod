// Wrapper module: builds the OpenBao server/CLI `bao` from github.com/openbao/openbao at commit
// f9407a27fbee45f62ba521bba2bf1e2360c61031 (the v2.4.0 release: CHANGELOG.md heads "2.4.0 / August 28, 2025").
// The v2.x.y tags are not valid versions for this module path (no /v2 suffix), hence the pseudo-version.
// Upstream replaces api/v2, sdk/v2 and api/auth/* with local directories; here they resolve to published tags.
module vault-eso-lab/components/openbao

go 1.24.6

tool github.com/openbao/openbao

require github.com/openbao/openbao v0.0.0-20250828202315-f9407a27fbee
