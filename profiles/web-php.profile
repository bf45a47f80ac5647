profile web-php
describe a PHP web application (nginx or Apache, php-fpm): php settings, app config, logs, code tree
include base
app /var/www/html
packages php* libapache2-mod-php* nginx* apache2 apache2-bin
runtime php
service nginx apache2 php-fpm
settings /etc/php/*/fpm/php.ini
settings /etc/php/*/cli/php.ini
settings /etc/php/*/fpm/conf.d/*.ini
settings /etc/php/*/fpm/pool.d/*.conf
config /etc/nginx/nginx.conf lines
config /etc/nginx/sites-enabled/* lines
config /etc/apache2/sites-enabled/* lines
config @app/.env
config @app/config/*.php
config @app/config/*.json
config @app/config/*.yml
config @app/composer.json
log /var/log/nginx/error.log
log /var/log/apache2/error.log
log /var/log/php*-fpm.log
log @app/storage/logs/*.log
tree @app
git @app
deploylog /var/www/revisions.log
allow require.* require-dev.* APP_NAME APP_LOCALE APP_TIMEZONE CACHE_STORE SESSION_DRIVER QUEUE_CONNECTION BROADCAST_DRIVER FILESYSTEM_DISK MAIL_MAILER DB_CHARSET DB_COLLATION
