//! The offline lab tenant: Entra ID, Graph, Exchange SMTP, MX and DNS on loopback, driven by a
//! scenario file of tenant state. It knows nothing of the client (`diag-core`) on purpose.
