"""Provenance: how Cutroom says what made a video.

The disclosure in words (disclosure.py) and content credentials (C2PA): the signing identity,
manifests, signing and reading back.

What c2pa-python 0.38 (c2pa-rs 0.91) accepts, found by trying:

- The chain is PEM, leaf first, then each issuer up to the root. A self-signed leaf is refused.
- The leaf needs basicConstraints CA:false, keyUsage digitalSignature, and an extended key usage
  from the C2PA profile: emailProtection works. id-kp-documentSigning (1.3.6.1.5.5.7.3.36) is
  refused when the claim is validated ("certificate missing required EKU"), and serverAuth is
  refused outright ("the certificate is invalid").
- Keys: EC P-256 signs with ES256 (what the instance makes), RSA with PS256, Ed25519 with Ed25519.
- The first action of a manifest must be c2pa.opened (with the parent ingredient) or c2pa.created.
- Ingredients described only in the manifest JSON (no stream) are kept with title, format,
  relationship, instance_id and metadata; a "hash" field is dropped, so the source's SHA-256 goes
  into the ingredient's metadata.
- Reading: validation_state is "Trusted" when the signer chains to a configured trust anchor,
  "Valid" when the signature and hashes hold but the signer is unknown (the failure list then
  holds signingCredential.untrusted), "Invalid" when a hash or signature does not match (e.g.
  assertion.bmffHash.mismatch after one byte of media data changed). A file without a manifest
  gives Reader.try_create() -> None.
- Signing reads and writes through Python file objects (Builder.sign(signer, mime, src, dest)),
  yet with c2pa's default settings it still holds about twice the file in memory (~970 MB for a
  500 MB MP4): it builds the signed copy in memory and hashes the media data whole. The settings
  core.backing_store_memory_threshold_in_mb=1 (the copy goes to a temporary file) together with
  core.merkle_tree_chunk_size_in_kb=1024 (the media data is hashed as a Merkle tree of 1 MB
  chunks) keep it flat: ~15 MB at 100 MB and at 500 MB (bench/provenance.py). Either alone is
  not enough. Files signed so still read back with the default reader (~14 MB to validate).
- Time: signing is one more read, hash and write of the file. On the 2-core development machine
  it adds ~220 % to storing a result locally (hash + save: 0.84 s for 500 MB; with signing
  2.7 s); verify_after_sign (on by default) costs little beside it.
"""
