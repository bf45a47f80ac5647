profile wordpress
describe WordPress on PHP: wp-config.php (salts and passwords hashed), plugins' and themes' code, debug log
include web-php
app /var/www/html
config @app/wp-config.php
config @app/wp-content/*.json
log @app/wp-content/debug.log
allow WP_DEBUG WP_DEBUG_LOG WP_DEBUG_DISPLAY SCRIPT_DEBUG WP_ENVIRONMENT_TYPE WP_CACHE WP_MEMORY_LIMIT WP_MAX_MEMORY_LIMIT DISALLOW_FILE_EDIT DISALLOW_FILE_MODS AUTOMATIC_UPDATER_DISABLED WP_AUTO_UPDATE_CORE DB_CHARSET DB_COLLATE $table_prefix WPLANG FORCE_SSL_ADMIN CONCATENATE_SCRIPTS
