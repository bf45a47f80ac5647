#!/usr/bin/perl
# scan-eval.pl - score a scanner's findings against the seeded corpus.
# usage: scan-eval.pl SEEDS TRAPS FINDINGS NAME
# FINDINGS: one "file<TAB>line<TAB>rule" per finding (rule may be "-").
# Prints: findings, seeded secrets found (of all), found under the right
# rule, false positives on the traps, and findings elsewhere.
use strict;
use warnings;

my ($seeds, $traps, $found, $name) = @ARGV;
my (%seed, %trap, @seeds);
sub load {
	my ($file, $into, $list) = @_;
	open my $fh, '<', $file or die "$file: $!";
	while (<$fh>) {
		chomp;
		my ($f, $l, $n, $r) = split /\t/;
		my $s = { f => $f, l => $l, n => $n, r => $r, hit => 0, right => 0 };
		push @{ $into->{$f} }, $s;
		push @$list, $s if $list;
	}
}
load($seeds, \%seed, \@seeds);
load($traps, \%trap, undef);
sub within {
	my ($set, $f, $l) = @_;
	for my $s (@{ $set->{$f} || [] }) {
		return $s if $l >= $s->{l} && $l < $s->{l} + $s->{n};
	}
	return undef;
}
my ($total, $fp, $other) = (0, 0, 0);
my %trap_hit;
open my $fh, '<', $found or die "$found: $!";
while (<$fh>) {
	chomp;
	my ($f, $l, $r) = split /\t/;
	next unless defined $l;
	$f =~ s{.*/}{};
	$total++;
	if (my $s = within(\%seed, $f, $l)) {
		$s->{hit} = 1;
		$s->{right} = 1 if $r eq $s->{r};
	} elsif (my $t = within(\%trap, $f, $l)) {
		$fp++;
		$trap_hit{"$t->{f}:$t->{l}"} = 1;
	} else {
		$other++;
	}
}
my $hit = grep { $_->{hit} } @seeds;
my $right = grep { $_->{right} } @seeds;
my %missed;
$missed{ $_->{r} }++ for grep { !$_->{hit} } @seeds;
printf "  %-12s findings %6d  seeded found %4d/%d  right rule %4d  trap FPs %4d  other %5d\n",
    $name, $total, $hit, scalar(@seeds), $right, $fp, $other;
if ($ENV{SCAN_EVAL_VERBOSE} && %missed) {
	print "    missed: ", join(", ", map { "$_ x$missed{$_}" } sort keys %missed), "\n";
}
