// An annotation's value is a string, an integer, a float or a bool; X-Ray indexes
// nothing else, so anything else does not compile.

use lambda_middleware::Tracer;

fn main() {
    Tracer::new().put_annotation("Tags", vec!["vip", "eu"]);
}
