// `.traced()` and `.untraced()` apply to the middleware added just before them: with no
// middleware yet, there is nothing to trace.

use lambda_middleware::Handler;

fn main() {
    let _ = Handler::builder().traced();
}
