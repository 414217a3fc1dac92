module tls-session-cache/test/clients/go

go 1.19
