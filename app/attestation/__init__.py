"""SEV-SNP attestation: evidence providers, report parser, verifier, KDS cache, pinned AMD roots.

Modules (import them directly; this package imports nothing so `import app` stays light):
    binding         report_data(), binding_inputs() — the one REPORT_DATA recipe (SPEC §6)
    report          parse_report(), AttestationReport, TcbVersion, unwrap_hcl_report()
    certtable       parse_cert_table(), build_cert_table()
    roots           pinned ARKs (+ AMD ASK/ASVK) for Milan, Genoa, Turin
    verify          verify_attestation(), Policy, verify_report_signature()
    result          VerificationResult, Check
    providers       EvidenceProvider, Evidence, select_provider(), the four providers, HardwareGate
    simulation      SimulatedAuthority (throwaway ARK→ASK→VCEK for development)
    measurement     code_measurement() — the simulated MEASUREMENT recipe
    kds             KdsClient (AMD KDS with on-disk cache and rate limiting)
    document        build_document(), verify_document()
"""
