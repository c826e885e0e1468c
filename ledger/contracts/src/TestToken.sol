// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken
/// @notice The ERC-20 an embedded or development chain settles in. Its
/// deployer mints; on a real network Settlement takes any ERC-20 instead.
contract TestToken is ERC20 {
    address public immutable minter;

    error NotMinter(address caller);

    constructor() ERC20("Tollgate Test Token", "TGT") {
        minter = msg.sender;
    }

    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert NotMinter(msg.sender);
        _mint(to, amount);
    }
}

/// @title FeeToken
/// @notice A test ERC-20 that burns 1% of every transfer, as fee-on-transfer
/// tokens do: Settlement must credit what it received, not what was sent.
contract FeeToken is ERC20 {
    constructor() ERC20("Fee Token", "FEE") {
        _mint(msg.sender, 1e30);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}
