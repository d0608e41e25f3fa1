//! Perl's RPC::XML (Debian's librpc-xml-perl): a second real client, with
//! its own encoder and parser, against the embedded default config.

mod common;

use std::process::Command;

use common::Gateway;

const SCRIPT: &str = r#"
use strict; use warnings; binmode STDOUT, ":encoding(UTF-8)";
use RPC::XML; use RPC::XML::Client;
$RPC::XML::ALLOW_NIL = 1;
my $c = RPC::XML::Client->new($ENV{URL});
sub call { my $r = $c->send_request(@_); die "transport: $r\n" unless ref $r; return $r; }
my $r = call('add', 2, 3);               print "add ", $r->value, "\n";
$r = call('pow', 2, 40);                 print "pow ", $r->value, " ", $r->type, "\n";
$r = call('div', 1, 0);                  print "fault ", $r->is_fault ? $r->code : 'none', "\n";
$r = call('echo', RPC::XML::struct->new(name => "caf\x{e9}", list => [1, 2.5, RPC::XML::boolean->new(1)]));
my $v = $r->value;                        print "echo $v->{name} @{$v->{list}}\n";
$r = call('echo', RPC::XML::base64->new("\x00\x01binary"));
print "b64 ", length($r->value), "\n";
$r = call('echo', RPC::XML::datetime_iso8601->new('20260102T03:04:05'));
print "dt ", $r->value, "\n";
$r = call('system.listMethods');          print "methods ", scalar(@{$r->value}), "\n";
$r = call('system.multicall', [ { methodName => 'add', params => [1, 1] }, { methodName => 'nosuch', params => [] } ]);
my $m = $r->value; print "multi ", $m->[0][0], " ", $m->[1]{faultCode}, "\n";
"#;

#[test]
fn perl_rpc_xml_client() {
    let Some(perl) = common::tool("perl", "perl") else {
        return;
    };
    let rpc_xml = Command::new(&perl)
        .args(["-MRPC::XML::Client", "-e", "1"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !common::needed("Perl's RPC::XML", "librpc-xml-perl", rpc_xml) {
        return;
    }
    let gw = Gateway::start("");
    let out = Command::new(&perl)
        .arg("-e")
        .arg(SCRIPT)
        .env("URL", gw.url("/RPC2"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = "add 5\npow 1099511627776 i8\nfault -32500\necho café 1 2.5 1\nb64 8\ndt 20260102T03:04:05\nmethods 8\nmulti 2 -32601\n";
    assert_eq!(stdout, expected);
}
