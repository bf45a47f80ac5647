#!/usr/bin/perl
# http-fixture.pl PORTFILE STATEDIR - a tiny HTTP server on 127.0.0.1 for
# the smoke-check tests.  Writes the port it listens on to PORTFILE.
#   /checkout  500 with a leaked secret in the page, until STATEDIR/fixed
#              exists; then 200 "Thank you for your order"
#   /login     302 to /account
#   /page100   200 after 100 ms (a page as slow as a real shop's)
#   /slow      answers after 5 s
# Serves until killed (the test kills it).
use strict;
use warnings;
use IO::Socket::INET;

my ($portfile, $dir) = @ARGV;
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16,
	ReuseAddr => 1, Proto => 'tcp') or die "listen: $!";
open(my $pf, '>', "$portfile.tmp") or die; print $pf $srv->sockport(), "\n"; close($pf);
rename("$portfile.tmp", $portfile) or die;
$SIG{CHLD} = 'IGNORE';
while (my $c = $srv->accept()) {
	my $req = <$c> // '';
	while (my $l = <$c>) { last if $l =~ /^\r?\n$/; }
	my ($path) = $req =~ m{^GET (\S+) HTTP/};
	$path //= '';
	my ($st, $body, $extra) = (404, "not found\n", '');
	if ($path eq '/checkout') {
		if (-e "$dir/fixed") {
			($st, $body) = (200, "<html>Thank you for your order</html>\n");
		} else {
			($st, $body) = (500, "Fatal error: PaymentGateway: undefined index 'currency' " .
			    "in DB_PASSWORD=Xk9mP2vL8qR4wZt7 config\n");
		}
	} elsif ($path eq '/login') {
		($st, $body, $extra) = (302, "moved\n", "Location: /account\r\n");
	} elsif ($path eq '/page100') {
		select(undef, undef, undef, 0.1);   # a page that takes 100 ms to render
		($st, $body) = (200, "<html>" . ("x" x 40000) . "</html>\n");
	} elsif ($path eq '/slow') {
		sleep 5;
		($st, $body) = (200, "late\n");
	}
	my %reason = (200 => 'OK', 302 => 'Found', 404 => 'Not Found', 500 => 'Internal Server Error');
	print $c "HTTP/1.1 $st $reason{$st}\r\nContent-Type: text/html\r\nContent-Length: " .
	    length($body) . "\r\n${extra}Connection: close\r\n\r\n$body";
	close($c);
}
