// The lab node's own images, built from this directory (standard library only, static binaries):
//   cmd/pause     the pod sandbox's process (sleeps until SIGTERM/SIGINT, reaps children)
//   cmd/consumer  the consumer application of the pod scenarios: reports what it reads (hashes, never values)
// src/labs/local/node/images.ts packs each into an image archive (one config + one layer) for containerd and kind.
module vault-eso-lab/components/node-images

go 1.26.0
