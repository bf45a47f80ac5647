profile base
describe the host: packages' versions, services, listening ports, disk and memory, environment names
system
ports
environment
recent 7d
packages openssl libssl3 ca-certificates tzdata
# the values of these keys are never secret: shown on both sides by envdiff
allow *_ENV *_DEBUG DEBUG LOG_LEVEL LOG_CHANNEL *_DRIVER *_CONNECTION NODE_ENV TZ LANG LC_* PATH HOME SHELL USER LOGNAME TERM PWD SHLVL *_TIMEOUT *_TTL *_LIFETIME *_PORT *_VERSION
