//! Chapter 2 (threading.RLock) of the tutorial: its examples as scenarios.
//!
//! Each `ex-2.S-NN` below is the tutorial's code block of that id, modelled as written
//! (same operations, same use of locks, scaled down where it loops), asserting what its
//! comments and prints claim. A Python `print` whose content is a claim is an entry in a
//! `Shared` log named `stdout`; an attribute of an object is a `Shared` named
//! `object.attribute`.
//!
//! Single-thread demos (ex-2.1-01, ex-2.1-02, ex-2.1-03, ex-2.3-01, ex-2.3-02, ex-2.3-03,
//! ex-2.4-01) are plain tests in `primitives/tests/rules_ch2.rs`; what their comments say
//! would go wrong if a commented-out line ran is a scenario here (`ex-2.1-02-lock`,
//! `ex-2.3-02-leak`), so the checker shows it. The two benchmarks (ex-2.3-04, ex-2.4-02)
//! have nothing to check (see `corpus/catalogue/ch2.jsonl`).
//!
//! | id | what | expected |
//! |---|---|---|
//! | `ex-2.1-02-lock` | the commented-out `bad_recursive(2)`: a Lock re-acquired by its holder | deadlock |
//! | `ex-2.1-04` | T1 holds an RLock two levels deep; T2 waits for the full release | holds |
//! | `ex-2.1-04-adversarial` | the same with the sleeps ending in any order | holds |
//! | `ex-2.1-05` | two threads insert into a BST that re-enters its RLock while recursing | holds |
//! | `ex-2.1-06` | one transfer between two RLock-guarded accounts | holds |
//! | `ex-2.2-01` | two threads scan directory trees (in memory) under one RLock | holds |
//! | `ex-2.2-02` | two threads fill a cart and apply a discount; the total depends on the order | holds |
//! | `ex-2.2-03` | observer callbacks re-entering RLocks, one worker | holds |
//! | `ex-2.2-04` | order state machine, pay → ship → deliver, one worker | holds |
//! | `ex-2.3-02-leak` | the "lock released?" check (`acquire(blocking=False)`) after the commented-out `bad_practice()`: it still says "available" | check-verifies-release |
//! | `ex-2.4-03` | a Lock counter and an RLock counter, one thread each | holds |
//! | `ex-2.4-04` | `GoodDesign.add` from three threads (five in the tutorial) | holds |

use lockproof_scenario::prelude::*;

/// `time.sleep(x)`.
fn sleep<B: Backend>(secs: f64) {
    B::sleep(Duration::from_secs_f64(secs));
}

/// A `Shared` log of the lines a program prints, where their content is a claim.
type Stdout<B> = Shared<Vec<String>, B>;

fn stdout<B: Backend>() -> Arc<Stdout<B>> {
    Arc::new(Shared::new(Vec::new()).with_name("stdout"))
}

fn print<B: Backend>(out: &Stdout<B>, line: String) {
    out.update(|v| v.push(line));
}

// ---- ex-2.1-02 --------------------------------------------------------------------------

/// `bad_recursive(n)`: the same recursion on a plain Lock.
fn bad_recursive<B: Backend>(lock: &Lock<B>, n: usize) {
    if n == 0 {
        return;
    }
    // print(f"尝试获取锁: {n}")
    lock.acquire();
    // try:
    // print(f"获取锁成功: {n}")
    bad_recursive(lock, n - 1); // 死锁发生在这里
                                // finally:
    lock.release().expect("release in finally");
}

fn ex_2_1_02_lock<B: Backend>() {
    let lock = Lock::<B>::new().with_name("lock");
    bad_recursive(&lock, 2);
}

// ---- ex-2.1-04 --------------------------------------------------------------------------

/// `TIMED`: also check thread 2 waited until 0.6 s, which is when thread 1 lets go if every
/// sleep ends on time (in adversarial time a thread may wake late, so the instant moves).
fn ex_2_1_04_body<B: Backend, const TIMED: bool>() {
    let rlock = Arc::new(RLock::<B>::new().with_name("rlock"));
    // Who holds the RLock: thread 1 from its first acquire to its last release, thread 2
    // inside its `with`.
    let held = Arc::new(Region::<B>::new("rlock-held", 1));
    // How many levels thread 1 holds (its own bookkeeping, for thread 2's claim).
    let t1_levels = Arc::new(Shared::<usize, B>::new(0).with_name("t1_levels"));

    let (r, h, lv) = (rlock.clone(), held.clone(), t1_levels.clone());
    let t1 = B::spawn("t1", move || {
        // print("线程1: 第一次获取锁")
        r.acquire();
        let inside = h.enter();
        lv.set(1);
        // try:
        // print("线程1: 第一次获取成功")
        sleep::<B>(0.1);
        // print("线程1: 第二次获取锁(重入)")
        let again = r.acquire();
        lv.set(2);
        let count = r.recursion_count();
        ensure(again && count == 2, "reentrancy", || {
            format!("thread 1's second acquire returned {again}, recursion count {count}")
        });
        // try:
        // print("线程1: 第二次获取成功")
        sleep::<B>(0.5);
        // finally:
        lv.set(1);
        r.release().expect("release in finally");
        // print("线程1: 释放第二次锁")
        // finally:
        lv.set(0);
        drop(inside);
        r.release().expect("release in finally");
        // print("线程1: 释放第一次锁")
    });

    let (r, h, lv) = (rlock.clone(), held.clone(), t1_levels.clone());
    let t2 = B::spawn("t2", move || {
        sleep::<B>(0.2);
        // print("线程2: 尝试获取锁")
        let _with = r.lock();
        let _in = h.enter();
        // print("线程2: 获取锁成功(等待线程1完全释放)")
        let levels = lv.get();
        let at = B::now().0;
        ensure(levels == 0, "t2-after-full-release", || {
            format!("thread 2 got the RLock while thread 1 still held {levels} level(s)")
        });
        ensure(!TIMED || at == 600_000_000, "t2-waits-for-t1", || {
            format!("thread 2 got the RLock at {at} ns, not when thread 1 let go at 0.6 s")
        });
    });

    t1.join();
    t2.join();
}

fn ex_2_1_04<B: Backend>() {
    ex_2_1_04_body::<B, true>()
}

fn ex_2_1_04_adversarial<B: Backend>() {
    ex_2_1_04_body::<B, false>()
}

// ---- ex-2.1-05 --------------------------------------------------------------------------

/// `TreeNode(value)`: its `left` and `right` attributes are shared variables holding a
/// reference to another node (`Arc`) or `None`.
struct TreeNode<B: Backend> {
    value: i64,
    left: Shared<Option<Node<B>>, B>,
    right: Shared<Option<Node<B>>, B>,
}

/// A reference to a `TreeNode`.
struct Node<B: Backend>(Arc<TreeNode<B>>);

impl<B: Backend> Clone for Node<B> {
    fn clone(&self) -> Self {
        Node(self.0.clone())
    }
}

impl<B: Backend> std::fmt::Debug for Node<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TreeNode({})", self.0.value)
    }
}

impl<B: Backend> Node<B> {
    fn new(value: i64) -> Self {
        Node(Arc::new(TreeNode {
            value,
            left: Shared::new(None).with_name(&format!("node{value}.left")),
            right: Shared::new(None).with_name(&format!("node{value}.right")),
        }))
    }
}

struct ThreadSafeTree<B: Backend> {
    root: Shared<Option<Node<B>>, B>,
    rlock: RLock<B>,
    sum: Shared<i64, B>,
    /// `insert`'s critical section.
    region: Region<B>,
}

impl<B: Backend> ThreadSafeTree<B> {
    fn new() -> Self {
        ThreadSafeTree {
            root: Shared::new(None).with_name("tree.root"),
            rlock: RLock::new().with_name("tree.rlock"),
            sum: Shared::new(0).with_name("tree.sum"),
            region: Region::new("tree.insert", 1),
        }
    }

    fn insert(&self, value: i64) {
        let _with = self.rlock.lock();
        let _in = self.region.enter();
        match self.root.get() {
            None => self.root.set(Some(Node::new(value))),
            Some(root) => self.insert_recursive(&root, value),
        }
    }

    fn insert_recursive(&self, node: &Node<B>, value: i64) {
        let _with = self.rlock.lock(); // 递归中重入
        let side = if value < node.0.value {
            &node.0.left
        } else {
            &node.0.right
        };
        match side.get() {
            None => side.set(Some(Node::new(value))),
            Some(child) => self.insert_recursive(&child, value),
        }
    }

    fn calculate_sum(&self) -> i64 {
        let _with = self.rlock.lock();
        self.sum.set(0);
        if let Some(root) = self.root.get() {
            self.sum_recursive(Some(root));
        }
        self.sum.get()
    }

    fn sum_recursive(&self, node: Option<Node<B>>) {
        let _with = self.rlock.lock(); // 递归中重入
        if let Some(n) = node {
            self.sum.set(self.sum.get() + n.0.value);
            self.sum_recursive(n.0.left.get());
            self.sum_recursive(n.0.right.get());
        }
    }
}

/// In-order values of the subtree at `node` (read by main once the workers are done).
fn in_order<B: Backend>(node: Option<Node<B>>, out: &mut Vec<i64>) {
    if let Some(n) = node {
        in_order(n.0.left.get(), out);
        out.push(n.0.value);
        in_order(n.0.right.get(), out);
    }
}

/// Scaled down: thread 1 inserts [5, 3] and thread 2 [2, 4] (the tutorial: [5, 3, 7] and
/// [2, 4, 6, 8], sum 35). The inserts still recurse three levels deep.
const TREE_T1: &[i64] = &[5, 3];
const TREE_T2: &[i64] = &[2, 4];

fn ex_2_1_05<B: Backend>() {
    let tree = Arc::new(ThreadSafeTree::<B>::new());
    let worker = |name: &str, values: &'static [i64]| {
        let tree = tree.clone();
        B::spawn(name, move || {
            for &v in values {
                tree.insert(v);
            }
        })
    };
    let t1 = worker("t1", TREE_T1);
    let t2 = worker("t2", TREE_T2);
    t1.join();
    t2.join();
    let sum = tree.calculate_sum();
    // print(f"树的节点总和: {tree.calculate_sum()}")  # 输出: 35 (the sum of all inserts)
    let want: i64 = TREE_T1.iter().chain(TREE_T2).sum();
    ensure(sum == want, "sum-of-inserts", || {
        format!("树的节点总和: {sum}, not {want}")
    });
    let mut values = Vec::new();
    in_order(tree.root.get(), &mut values);
    let mut sorted: Vec<i64> = TREE_T1.iter().chain(TREE_T2).copied().collect();
    sorted.sort_unstable();
    ensure(values == sorted, "bst-invariant", || {
        format!("in-order traversal {values:?}, not {sorted:?}")
    });
}

// ---- ex-2.1-06 --------------------------------------------------------------------------

struct BankAccount<B: Backend> {
    balance: Shared<i64, B>,
    rlock: RLock<B>,
    out: Arc<Stdout<B>>,
}

impl<B: Backend> BankAccount<B> {
    fn new(name: &str, balance: i64, out: Arc<Stdout<B>>) -> Self {
        BankAccount {
            balance: Shared::new(balance).with_name(&format!("{name}.balance")),
            rlock: RLock::new().with_name(&format!("{name}.rlock")),
            out,
        }
    }

    fn deposit(&self, amount: i64) {
        let _with = self.rlock.lock();
        self.balance.set(self.balance.get() + amount);
        // print(f"存款{amount}, 余额: {self.balance}")
        self.log_transaction("deposit", amount);
    }

    fn withdraw(&self, amount: i64) -> bool {
        let _with = self.rlock.lock();
        if self.balance.get() >= amount {
            self.balance.set(self.balance.get() - amount);
            // print(f"取款{amount}, 余额: {self.balance}")
            self.log_transaction("withdraw", amount);
            return true;
        }
        false
    }

    fn log_transaction(&self, kind: &str, amount: i64) {
        let _with = self.rlock.lock(); // 重入:已在deposit/withdraw中持有锁
        let balance = self.balance.get();
        print(
            &self.out,
            format!("日志: {kind} {amount}, 当前余额: {balance}"),
        );
    }

    fn transfer_to(&self, other: &BankAccount<B>, amount: i64) -> bool {
        let _with = self.rlock.lock();
        if self.withdraw(amount) {
            // 重入
            other.deposit(amount); // 可能需要other的锁
            return true;
        }
        false
    }
}

fn ex_2_1_06<B: Backend>() {
    let out = stdout::<B>();
    let account1 = Arc::new(BankAccount::<B>::new("account1", 1000, out.clone()));
    let account2 = Arc::new(BankAccount::<B>::new("account2", 500, out.clone()));
    let (a1, a2) = (account1.clone(), account2.clone());
    let t = B::spawn("t", move || {
        a1.transfer_to(&a2, 200);
    });
    t.join();
    let (b1, b2) = (account1.balance.get(), account2.balance.get());
    ensure(b1 == 800, "account1-800", || format!("账户1余额: {b1}"));
    ensure(b2 == 700, "account2-700", || format!("账户2余额: {b2}"));
    let log = out.get();
    ensure(
        log == [
            "日志: withdraw 200, 当前余额: 800",
            "日志: deposit 200, 当前余额: 700",
        ],
        "transaction-log",
        || format!("log {log:?}"),
    );
}

// ---- ex-2.2-01 --------------------------------------------------------------------------

/// A directory entry of the in-memory file system that stands for the host's.
#[derive(Debug)]
enum DirEntry {
    File(u64),
    Dir(&'static [DirEntry]),
}

/// `/tmp`: a file of 10 bytes and a subdirectory holding a file of 20 bytes.
const TMP: &[DirEntry] = &[DirEntry::File(10), DirEntry::Dir(&[DirEntry::File(20)])];
/// `/var/log`: a file of 5 bytes and a subdirectory holding a file of 7 bytes.
const VAR_LOG: &[DirEntry] = &[DirEntry::File(5), DirEntry::Dir(&[DirEntry::File(7)])];

struct ThreadSafeFileScanner<B: Backend> {
    rlock: RLock<B>,
    file_count: Shared<u64, B>,
    dir_count: Shared<u64, B>,
    total_size: Shared<u64, B>,
    /// The outermost `scan_directory` of a worker: its critical section.
    region: Region<B>,
}

impl<B: Backend> ThreadSafeFileScanner<B> {
    /// `scan_directory(path)`; `depth` says whether this is the worker's own call (0) or
    /// a recursive one.
    fn scan_directory(&self, dir: &[DirEntry], depth: usize) {
        let _with = self.rlock.lock();
        let _in = (depth == 0).then(|| self.region.enter());
        for entry in dir {
            match entry {
                DirEntry::File(size) => {
                    self.file_count.set(self.file_count.get() + 1);
                    self.total_size.set(self.total_size.get() + size);
                }
                DirEntry::Dir(sub) => {
                    self.dir_count.set(self.dir_count.get() + 1);
                    self.scan_directory(sub, depth + 1); // 递归调用
                }
            }
        }
    }

    fn get_stats(&self) -> (u64, u64, u64) {
        let _with = self.rlock.lock();
        (
            self.file_count.get(),
            self.dir_count.get(),
            self.total_size.get(),
        )
    }
}

fn ex_2_2_01<B: Backend>() {
    let scanner = Arc::new(ThreadSafeFileScanner::<B> {
        rlock: RLock::new().with_name("scanner.rlock"),
        file_count: Shared::new(0).with_name("scanner.file_count"),
        dir_count: Shared::new(0).with_name("scanner.dir_count"),
        total_size: Shared::new(0).with_name("scanner.total_size"),
        region: Region::new("scanner.scan", 1),
    });
    // Both paths exist (os.path.exists), so both threads start.
    let threads: Vec<_> = [("t-/tmp", TMP), ("t-/var/log", VAR_LOG)]
        .into_iter()
        .map(|(name, dir)| {
            let s = scanner.clone();
            B::spawn(name, move || s.scan_directory(dir, 0))
        })
        .collect();
    for t in threads {
        t.join();
    }
    let stats = scanner.get_stats();
    ensure(stats == (4, 2, 42), "stats-total", || {
        format!("(files, dirs, size) = {stats:?}, not (4, 2, 42) summed over both trees")
    });
}

// ---- ex-2.2-02 --------------------------------------------------------------------------

/// One entry of `ShoppingCart.items`: `item_id -> {"price", "quantity"}`.
#[derive(Clone, Debug)]
struct CartItem {
    id: &'static str,
    price: f64,
    quantity: i64,
}

struct ShoppingCart<B: Backend> {
    rlock: RLock<B>,
    /// The `items` dict, in insertion order.
    items: Shared<Vec<CartItem>, B>,
    total: Shared<f64, B>,
    /// The public methods' critical sections.
    region: Region<B>,
}

impl<B: Backend> ShoppingCart<B> {
    fn add_item(&self, item_id: &'static str, price: f64, quantity: i64) {
        let _with = self.rlock.lock();
        let _in = self.region.enter();
        if self.items.get().iter().any(|i| i.id == item_id) {
            self.items.update(|v| {
                for i in v.iter_mut().filter(|i| i.id == item_id) {
                    i.quantity += quantity;
                }
            });
        } else {
            self.items.update(|v| {
                v.push(CartItem {
                    id: item_id,
                    price,
                    quantity,
                })
            });
        }
        self.recalculate_total(); // 调用其他方法
                                  // print(f"添加商品{item_id}, 数量{quantity}")
    }

    fn recalculate_total(&self) {
        let _with = self.rlock.lock(); // 重入:已在add_item/remove_item中持有锁
        let items = self.items.get();
        self.total.set(cart_sum(&items));
    }

    fn apply_discount(&self, discount_rate: f64) {
        let _with = self.rlock.lock();
        let _in = self.region.enter();
        for k in 0..self.items.get().len() {
            self.items.update(|v| v[k].price *= 1.0 - discount_rate);
        }
        self.recalculate_total(); // 重入调用
    }

    fn get_total(&self) -> f64 {
        let _with = self.rlock.lock();
        let _in = self.region.enter();
        self.total.get()
    }
}

/// `sum(item["price"] * item["quantity"] for item in items.values())`.
fn cart_sum(items: &[CartItem]) -> f64 {
    items.iter().map(|i| i.price * i.quantity as f64).sum()
}

fn ex_2_2_02<B: Backend>() {
    let cart = Arc::new(ShoppingCart::<B> {
        rlock: RLock::new().with_name("cart.rlock"),
        items: Shared::new(Vec::new()).with_name("cart.items"),
        total: Shared::new(0.0).with_name("cart.total"),
        region: Region::new("cart", 1),
    });
    let c = cart.clone();
    let t1 = B::spawn("t1", move || {
        c.add_item("A001", 100.0, 2);
        c.add_item("A002", 50.0, 3);
    });
    let c = cart.clone();
    let t2 = B::spawn("t2", move || {
        c.add_item("A003", 200.0, 1);
        c.apply_discount(0.1);
    });
    t1.join();
    t2.join();
    let total = cart.get_total();
    let shown = format!("{total:.2}");
    // The discount covers only what is in the cart when it runs: A003 alone, A003 and
    // A001, or all three.
    ensure(
        ["530.00", "510.00", "495.00"].contains(&shown.as_str()),
        "total-in-outcomes",
        || format!("购物车总价: {shown}"),
    );
    let items = cart.items.get();
    let recomputed = cart_sum(&items);
    ensure(total == recomputed, "total-consistent", || {
        format!("total {total} but the items sum to {recomputed}: {items:?}")
    });
}

// ---- ex-2.2-03 --------------------------------------------------------------------------

struct Observer<B: Backend> {
    name: &'static str,
    rlock: RLock<B>,
    out: Arc<Stdout<B>>,
}

impl<B: Backend> std::fmt::Debug for Observer<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl<B: Backend> Observer<B> {
    fn update(&self, observable: &Observable<B>) {
        let _with = self.rlock.lock();
        let state = observable.state.get();
        print(&self.out, format!("{} 收到更新: {state}", self.name));
        if state == "critical" {
            self.handle_critical();
        }
    }

    fn handle_critical(&self) {
        let _with = self.rlock.lock(); // 重入
        print(&self.out, format!("{} 处理紧急状态", self.name));
    }
}

struct Observable<B: Backend> {
    rlock: RLock<B>,
    observers: Shared<Vec<Arc<Observer<B>>>, B>,
    state: Shared<&'static str, B>,
}

impl<B: Backend> Observable<B> {
    fn attach(&self, observer: Arc<Observer<B>>) {
        let _with = self.rlock.lock();
        if !self
            .observers
            .get()
            .iter()
            .any(|o| Arc::ptr_eq(o, &observer))
        {
            self.observers.update(|v| v.push(observer));
        }
    }

    fn notify(&self) {
        let _with = self.rlock.lock();
        for observer in self.observers.get() {
            // self.observers[:]
            observer.update(self); // 可能触发其他操作
        }
    }

    fn set_state(&self, state: &'static str) {
        let _with = self.rlock.lock();
        self.state.set(state);
        self.notify(); // 重入:调用notify
    }
}

fn ex_2_2_03<B: Backend>() {
    let out = stdout::<B>();
    let subject = Arc::new(Observable::<B> {
        rlock: RLock::new().with_name("subject.rlock"),
        observers: Shared::new(Vec::new()).with_name("subject.observers"),
        state: Shared::new("None").with_name("subject.state"),
    });
    let observer = |name: &'static str, lock: &str| {
        Arc::new(Observer {
            name,
            rlock: RLock::new().with_name(lock),
            out: out.clone(),
        })
    };
    let obs1 = observer("观察者1", "obs1.rlock");
    let obs2 = observer("观察者2", "obs2.rlock");
    subject.attach(obs1);
    subject.attach(obs2);
    let s = subject.clone();
    let t = B::spawn("t", move || {
        s.set_state("normal");
        s.set_state("critical");
    });
    t.join();
    let log = out.get();
    let want = [
        "观察者1 收到更新: normal",
        "观察者2 收到更新: normal",
        "观察者1 收到更新: critical",
        "观察者1 处理紧急状态",
        "观察者2 收到更新: critical",
        "观察者2 处理紧急状态",
    ];
    ensure(log == want, "callback-order", || format!("printed {log:?}"));
}

// ---- ex-2.2-04 --------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OrderState {
    Pending,
    Paid,
    Shipped,
    Delivered,
}

impl OrderState {
    fn value(self) -> &'static str {
        match self {
            OrderState::Pending => "pending",
            OrderState::Paid => "paid",
            OrderState::Shipped => "shipped",
            OrderState::Delivered => "delivered",
        }
    }
}

struct OrderStateMachine<B: Backend> {
    state: Shared<OrderState, B>,
    rlock: RLock<B>,
    history: Shared<Vec<&'static str>, B>,
    out: Arc<Stdout<B>>,
}

impl<B: Backend> OrderStateMachine<B> {
    fn pay(&self) -> bool {
        let _with = self.rlock.lock();
        if self.state.get() == OrderState::Pending {
            self.transition_to(OrderState::Paid);
            self.log_event("payment_received");
            self.check_auto_ship(); // 可能触发发货
            return true;
        }
        false
    }

    fn ship(&self) -> bool {
        let _with = self.rlock.lock();
        if self.state.get() == OrderState::Paid {
            self.transition_to(OrderState::Shipped);
            self.log_event("order_shipped");
            return true;
        }
        false
    }

    fn deliver(&self) -> bool {
        let _with = self.rlock.lock();
        if self.state.get() == OrderState::Shipped {
            self.transition_to(OrderState::Delivered);
            self.log_event("order_delivered");
            self.send_notification(); // 重入调用
            return true;
        }
        false
    }

    fn transition_to(&self, new_state: OrderState) {
        let _with = self.rlock.lock(); // 重入
        let old_state = self.state.get();
        self.state.set(new_state);
        print(
            &self.out,
            format!("订单ORD001: {} -> {}", old_state.value(), new_state.value()),
        );
    }

    fn log_event(&self, event: &'static str) {
        let _with = self.rlock.lock(); // 重入
        self.history.update(|h| h.push(event));
    }

    fn check_auto_ship(&self) {
        let _with = self.rlock.lock(); // 重入
                                       // print(f"订单{self.order_id}: 检查是否自动发货")
    }

    fn send_notification(&self) {
        let _with = self.rlock.lock(); // 重入
                                       // print(f"订单{self.order_id}: 发送通知")
    }
}

fn ex_2_2_04<B: Backend>() {
    let out = stdout::<B>();
    let order = Arc::new(OrderStateMachine::<B> {
        state: Shared::new(OrderState::Pending).with_name("order.state"),
        rlock: RLock::new().with_name("order.rlock"),
        history: Shared::new(Vec::new()).with_name("order.history"),
        out: out.clone(),
    });
    let o = order.clone();
    let t = B::spawn("t", move || {
        o.pay();
        o.ship();
        o.deliver();
    });
    t.join();
    let history = order.history.get();
    ensure(
        history == ["payment_received", "order_shipped", "order_delivered"],
        "history",
        || format!("订单历史: {history:?}"),
    );
    let log = out.get();
    ensure(
        log == [
            "订单ORD001: pending -> paid",
            "订单ORD001: paid -> shipped",
            "订单ORD001: shipped -> delivered",
        ],
        "transitions",
        || format!("printed {log:?}"),
    );
}

// ---- ex-2.3-02 --------------------------------------------------------------------------

fn bad_practice<B: Backend>(rlock: &RLock<B>) {
    rlock.acquire();
    rlock.acquire();
    // print("获取锁两次")
    rlock.release().expect("release");
    // 错误:只释放一次,锁未完全释放
    // print("锁状态异常")
}

fn good_practice<B: Backend>(rlock: &RLock<B>) {
    rlock.acquire();
    // try:
    rlock.acquire();
    // try: print("获取锁两次")
    // finally:
    rlock.release().expect("release in finally");
    // finally:
    rlock.release().expect("release in finally");
    // print("锁正确释放")
}

/// `# 验证锁已释放`: `if rlock.acquire(blocking=False): print("锁可用"); rlock.release()`.
/// Returns whether it printed "锁可用"; fails the run if it did while the lock was not
/// released (the check's whole point).
fn verify_released<B: Backend>(rlock: &RLock<B>) -> bool {
    // The oracle: CPython's `_recursion_count()`, the levels the calling (and only) thread
    // still holds.
    let held = rlock.recursion_count();
    let available = rlock.try_acquire();
    if available {
        // print("锁可用")
        ensure(held == 0, "check-verifies-release", || {
            format!(
                "acquire(blocking=False) said 锁可用 while main still held the RLock \
                 {held} level(s) deep: the owner's non-blocking acquire re-enters"
            )
        });
        rlock.release().expect("release");
    }
    available
}

fn ex_2_3_02_leak<B: Backend>() {
    let rlock = RLock::<B>::new().with_name("rlock");
    bad_practice(&rlock); // 会导致锁泄漏
    good_practice(&rlock);
    verify_released(&rlock);
}

// ---- ex-2.4-03 --------------------------------------------------------------------------

/// Scaled down: `test_simple` increments 2 times (100 in the tutorial), `test_complex`
/// runs 2 increment/decrement rounds (50).
const SIMPLE_ROUNDS: i64 = 2;
const COMPLEX_ROUNDS: usize = 2;

struct SimpleCounter<B: Backend> {
    lock: Lock<B>,
    value: Shared<i64, B>,
    region: Region<B>,
}

impl<B: Backend> SimpleCounter<B> {
    fn increment(&self) {
        let _with = self.lock.lock();
        let _in = self.region.enter();
        self.value.set(self.value.get() + 1);
    }

    fn get_value(&self) -> i64 {
        let _with = self.lock.lock();
        let _in = self.region.enter();
        self.value.get()
    }
}

struct ComplexCounter<B: Backend> {
    rlock: RLock<B>,
    value: Shared<i64, B>,
    history: Shared<Vec<(&'static str, i64)>, B>,
    region: Region<B>,
}

impl<B: Backend> ComplexCounter<B> {
    fn increment(&self) {
        let _with = self.rlock.lock();
        let _in = self.region.enter();
        self.value.set(self.value.get() + 1);
        self.log_change("increment"); // 调用其他方法
    }

    fn decrement(&self) {
        let _with = self.rlock.lock();
        let _in = self.region.enter();
        self.value.set(self.value.get() - 1);
        self.log_change("decrement"); // 调用其他方法
    }

    fn log_change(&self, operation: &'static str) {
        let _with = self.rlock.lock(); // 重入
        let v = self.value.get();
        self.history.update(|h| h.push((operation, v)));
    }

    fn get_stats(&self) -> (i64, usize) {
        let _with = self.rlock.lock();
        let _in = self.region.enter();
        (self.value.get(), self.history.get().len())
    }
}

fn ex_2_4_03<B: Backend>() {
    let simple = Arc::new(SimpleCounter::<B> {
        lock: Lock::new().with_name("simple.lock"),
        value: Shared::new(0).with_name("simple.value"),
        region: Region::new("simple", 1),
    });
    let complex = Arc::new(ComplexCounter::<B> {
        rlock: RLock::new().with_name("complex_counter.rlock"),
        value: Shared::new(0).with_name("complex_counter.value"),
        history: Shared::new(Vec::new()).with_name("complex_counter.history"),
        region: Region::new("complex_counter", 1),
    });
    let s = simple.clone();
    let t1 = B::spawn("t1", move || {
        for _ in 0..SIMPLE_ROUNDS {
            s.increment();
        }
    });
    let c = complex.clone();
    let t2 = B::spawn("t2", move || {
        for _ in 0..COMPLEX_ROUNDS {
            c.increment();
            c.decrement();
        }
    });
    t1.join();
    t2.join();
    let v = simple.get_value();
    ensure(v == SIMPLE_ROUNDS, "simple-count", || {
        format!("简单计数器: {v}, not {SIMPLE_ROUNDS}")
    });
    let stats = complex.get_stats();
    ensure(stats == (0, 2 * COMPLEX_ROUNDS), "complex-stats", || {
        format!(
            "复杂计数器: (value, changes) = {stats:?}, not (0, {})",
            2 * COMPLEX_ROUNDS
        )
    });
}

// ---- ex-2.4-04 --------------------------------------------------------------------------

/// Scaled down: three threads add (five in the tutorial).
const GOOD_DESIGN_THREADS: usize = 3;

struct GoodDesign<B: Backend> {
    lock: Lock<B>,
    data: Shared<Vec<usize>, B>,
    region: Region<B>,
}

impl<B: Backend> GoodDesign<B> {
    fn add(&self, item: usize, out: &Shared<Vec<usize>, B>) {
        let count = {
            let _with = self.lock.lock();
            let _in = self.region.enter();
            self.data.update(|d| d.push(item));
            self.data.get().len() // 在锁内获取数据
        };
        // 在锁外执行其他操作: print(f"当前数量: {count}")
        out.update(|o| o.push(count));
    }
}

fn ex_2_4_04<B: Backend>() {
    let good = Arc::new(GoodDesign::<B> {
        lock: Lock::new().with_name("good.lock"),
        data: Shared::new(Vec::new()).with_name("good.data"),
        region: Region::new("good.add", 1),
    });
    let printed = Arc::new(Shared::<Vec<usize>, B>::new(Vec::new()).with_name("stdout"));
    let threads: Vec<_> = (0..GOOD_DESIGN_THREADS)
        .map(|i| {
            let (g, p) = (good.clone(), printed.clone());
            B::spawn(&format!("t{i}"), move || g.add(i, &p))
        })
        .collect();
    for t in threads {
        t.join();
    }
    let mut counts = printed.get();
    counts.sort_unstable();
    let want: Vec<usize> = (1..=GOOD_DESIGN_THREADS).collect();
    ensure(counts == want, "printed-counts", || {
        format!("the threads printed counts {counts:?}, not each of {want:?} once")
    });
    let mut data = good.data.get();
    data.sort_unstable();
    let all: Vec<usize> = (0..GOOD_DESIGN_THREADS).collect();
    ensure(data == all, "all-added", || format!("data {data:?}"));
}

/// The chapter's scenarios, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-2.1-02-lock",
            "the commented-out bad_recursive(2): the holder of a Lock acquires it again",
            bodies!(ex_2_1_02_lock),
        )
        .violates(
            "deadlock",
            "as the comment says: a Lock is not reentrant, so the second acquire waits for the caller itself",
        )
        .threads(0)
        .source("ex-2.1-02"),
        Scenario::new(
            "ex-2.1-04",
            "thread 1 holds an RLock two levels deep for 0.6 s; thread 2 tries at 0.2 s",
            bodies!(ex_2_1_04),
        )
        .holds("only the owner re-enters; thread 2 gets the RLock when thread 1 has released both levels, at 0.6 s")
        .source("ex-2.1-04"),
        Scenario::new(
            "ex-2.1-04-adversarial",
            "the same, with the sleeps ending in any order (a thread may wake late)",
            bodies!(ex_2_1_04_adversarial),
        )
        .holds("the order of the sleeps does not matter: thread 1 takes the RLock before it first sleeps, so thread 2 can only get it after both releases")
        .adversarial()
        .source("ex-2.1-04"),
        Scenario::new(
            "ex-2.1-05",
            "two threads insert [5,3] and [2,4] (scaled from [5,3,7], [2,4,6,8]) into a BST that re-enters its RLock",
            bodies!(ex_2_1_05),
        )
        .holds("every insert runs under the RLock, so the tree stays a BST and sums to the inserted total in every order")
        .source("ex-2.1-05"),
        Scenario::new(
            "ex-2.1-06",
            "one thread transfers 200 between two RLock-guarded accounts",
            bodies!(ex_2_1_06),
        )
        .holds("withdraw and deposit re-enter the account locks; with one transfer thread no lock waits on another")
        .threads(1)
        .source("ex-2.1-06"),
        Scenario::new(
            "ex-2.2-01",
            "two threads scan /tmp and /var/log (an in-memory tree) under one RLock",
            bodies!(ex_2_2_01),
        )
        .holds("each scan holds the RLock for its whole recursion, so the counters add up in every order")
        .source("ex-2.2-01"),
        Scenario::new(
            "ex-2.2-02",
            "T1 adds A001 and A002, T2 adds A003 then applies a 10% discount",
            bodies!(ex_2_2_02),
        )
        .holds("the locking keeps total equal to the items' sum; the total is 530, 510 or 495 depending on the order")
        .source("ex-2.2-02"),
        Scenario::new(
            "ex-2.2-03",
            "one worker sets 'normal' then 'critical'; observer callbacks re-enter their RLocks",
            bodies!(ex_2_2_03),
        )
        .holds("one worker thread: every callback runs in it, in attach order, re-entering only locks it holds")
        .threads(1)
        .source("ex-2.2-03"),
        Scenario::new(
            "ex-2.2-04",
            "one worker runs pay, ship and deliver on an RLock-guarded order state machine",
            bodies!(ex_2_2_04),
        )
        .holds("the helpers re-enter the RLock; one worker performs the three transitions in order")
        .threads(1)
        .source("ex-2.2-04"),
        Scenario::new(
            "ex-2.3-02-leak",
            "the commented-out bad_practice() leaks a level; the same check still prints 锁可用",
            bodies!(ex_2_3_02_leak),
        )
        .violates(
            "check-verifies-release",
            "the check runs in the thread that owns the leaked level, and the owner's acquire(blocking=False) re-enters",
        )
        .threads(0)
        .source("ex-2.3-02"),
        Scenario::new(
            "ex-2.4-03",
            "T1 increments a Lock counter, T2 increments and decrements an RLock counter that logs reentrantly",
            bodies!(ex_2_4_03),
        )
        .holds("each counter's methods hold its lock (re-entered by _log_change); each counter has one writer")
        .source("ex-2.4-03"),
        Scenario::new(
            "ex-2.4-04",
            "three threads call GoodDesign.add: append and len() under a Lock, print outside it",
            bodies!(ex_2_4_04),
        )
        .holds("append and len() are in one critical section, so the counts printed are 1..N, one each")
        .threads(GOOD_DESIGN_THREADS)
        .source("ex-2.4-04"),
    ]
}
