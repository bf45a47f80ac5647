profile node
describe a Node.js service: package.json, app config, logs, code tree (node_modules included)
include base
app /srv/app
packages nodejs npm
runtime node
service node nginx pm2
config @app/.env
config @app/package.json
config @app/config/*.json
config @app/config/*.yml
config @app/config/*.yaml
config /etc/nginx/nginx.conf lines
log @app/logs/*.log
log /var/log/nginx/error.log
tree @app
git @app
deploylog /srv/revisions.log
allow NODE_OPTIONS PORT HOST UV_THREADPOOL_SIZE version name main type engines.* dependencies.* devDependencies.*
